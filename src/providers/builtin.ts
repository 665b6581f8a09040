/**
 * The built-in providers. Each turns a resolved workflow into job specs; they are pure,
 * so planning (and `--dry-run`) needs no runner. How a spec runs is the runner's business.
 */
import { ConfigError } from '../core/errors.js';
import type { ProviderJob, ResolvedWorkflow } from '../core/planner.js';

export const BUILTIN_PROVIDERS = ['bash', 'docker', 'python', 'curl'] as const;
export type BuiltinProvider = (typeof BUILTIN_PROVIDERS)[number];

/** Providers whose jobs the runner can execute today; the others are planned and validated only. */
export const RUNNABLE_PROVIDERS: readonly string[] = ['bash'];

function baseJob(wf: ResolvedWorkflow): ProviderJob {
  const job: ProviderJob = {
    ref: wf.name,
    provider: wf.provider,
    commands: wf.commands,
    env: wf.environment,
    variables: wf.variables,
    artifacts: wf.artifacts,
    resources: wf.resources,
    params: wf.params,
  };
  if (wf.image !== undefined) job.image = wf.image;
  if (wf.inputs !== undefined) job.inputs = wf.inputs;
  return job;
}

function requireParam(wf: ResolvedWorkflow, ...names: string[]): string {
  for (const name of names) {
    const value = wf.params[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  throw new ConfigError(
    `workflow '${wf.name}' uses the ${wf.provider} provider, which needs '${names[0]}'`,
    wf.location,
    names[0],
  );
}

export function builtinJobs(wf: ResolvedWorkflow): ProviderJob[] {
  const provider = wf.provider as BuiltinProvider;
  switch (provider) {
    case 'bash':
    case 'docker':
      if (wf.commands.length === 0) {
        throw new ConfigError(`workflow '${wf.name}' has no commands to run`, wf.location, 'commands');
      }
      return [baseJob(wf)];
    case 'python':
      requireParam(wf, 'python_script', 'script', 'file');
      return [baseJob(wf)];
    case 'curl':
      requireParam(wf, 'url');
      requireParam(wf, 'output');
      return [baseJob(wf)];
    default:
      throw new ConfigError(
        `workflow '${wf.name}' uses provider '${wf.provider}', which is not a built-in provider ` +
          `(built-in: ${BUILTIN_PROVIDERS.join(', ')})`,
        wf.location,
        'provider',
      );
  }
}
