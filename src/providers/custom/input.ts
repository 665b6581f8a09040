/** What a custom provider is given: the workflow, its variables, the repo, where the project is. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { branchStatus } from '../../client/git.js';
import type { ResolvedWorkflow } from '../../core/planner.js';
import type { DependencyConfig } from '../../core/workflow.js';
import { CONTRACT_VERSION, type ProviderInput, type ProviderWorkflow } from './contract.js';

const exec = promisify(execFile);

export function providerWorkflow(wf: ResolvedWorkflow, dependsOn: readonly DependencyConfig[]): ProviderWorkflow {
  const r = wf.resources;
  return {
    name: wf.name,
    params: wf.params,
    image: wf.image ?? null,
    commands: wf.commands,
    environment: wf.environment,
    artifacts: wf.artifacts,
    resources: {
      cpu: r.cpu,
      memory: r.memory,
      gpu: r.gpu,
      ...(r.gpuName !== undefined ? { gpu_name: r.gpuName } : {}),
      ...(r.shmSize !== undefined ? { shm_size: r.shmSize } : {}),
    },
    depends_on: dependsOn.map((d) => (d.tag === undefined ? d.workflow : `${d.workflow ?? ''}:${d.tag}`)),
  };
}

export function providerInput(
  wf: ResolvedWorkflow,
  provider: { name: string; repo?: string },
  dependsOn: readonly DependencyConfig[],
  repo: ProviderInput['repo'],
  projectDir: string,
): ProviderInput {
  return {
    version: CONTRACT_VERSION,
    provider: { name: provider.name, repo: provider.repo ?? null },
    workflow: providerWorkflow(wf, dependsOn),
    variables: wf.variables,
    repo,
    project_dir: projectDir,
  };
}

/** The project's git remote, branch, commit and dirtiness; empty outside git. */
export async function repoInfo(root: string): Promise<ProviderInput['repo']> {
  const git = async (...args: string[]) => {
    try {
      return (await exec('git', ['-C', root, ...args])).stdout.trim();
    } catch {
      return undefined;
    }
  };
  const [status, remote] = await Promise.all([
    git('status', '--porcelain=v2', '--branch'),
    git('remote', 'get-url', 'origin'),
  ]);
  const { commit, branch, dirty } = branchStatus(status ?? '');
  if (commit === undefined) return {};
  return { commit, ...(remote ? { remote } : {}), ...(branch ? { branch } : {}), dirty };
}
