/** What a custom provider is given: the workflow, its variables, the repo, where the project is. */
import { branchStatus, gitOutput } from '../../client/git.js';
import type { ResolvedWorkflow } from '../../core/planner.js';
import { CONTRACT_VERSION, type ProviderInput, type ProviderWorkflow } from './contract.js';

export function providerWorkflow(wf: ResolvedWorkflow): ProviderWorkflow {
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
    depends_on: wf.dependsOn.map((d) => (d.tag === undefined ? d.workflow : `${d.workflow ?? ''}:${d.tag}`)),
  };
}

export function providerInput(
  wf: ResolvedWorkflow,
  provider: { name: string; repo?: string },
  repo: ProviderInput['repo'],
  projectDir: string,
): ProviderInput {
  return {
    version: CONTRACT_VERSION,
    provider: { name: provider.name, repo: provider.repo ?? null },
    workflow: providerWorkflow(wf),
    variables: wf.variables,
    repo,
    project_dir: projectDir,
  };
}

/** The project's git remote, branch, commit and dirtiness; empty outside git. */
export async function repoInfo(root: string): Promise<ProviderInput['repo']> {
  const [status, remote] = await Promise.all([
    gitOutput(root, 'status', '--porcelain=v2', '--branch'),
    gitOutput(root, 'remote', 'get-url', 'origin').then((r) => r?.trim()),
  ]);
  const { commit, branch, dirty } = branchStatus(status ?? '');
  if (commit === undefined) return {};
  return { commit, ...(remote ? { remote } : {}), ...(branch ? { branch } : {}), dirty };
}
