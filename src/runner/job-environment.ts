/**
 * A job's environment. On the host: the runner's own (less dstack's secrets), then the
 * variables upper-cased, then `environment:`, then dstack's. In a container the image
 * brings its own PATH and HOME, so only pip's and the proxies' settings come from the runner.
 */
import type { Assignment } from '../core/api.js';

/** Runner settings that a container gets too: how to reach a package index. */
const PASSED_TO_CONTAINERS = /^(PIP_[A-Z_]+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/;

export function jobEnvironment(
  assignment: Assignment,
  baseEnv: Record<string, string>,
  where: 'host' | 'container',
): Record<string, string> {
  const spec = assignment.job.spec;
  const env: Record<string, string> =
    where === 'host'
      ? { ...baseEnv }
      : Object.fromEntries(Object.entries(baseEnv).filter(([k]) => PASSED_TO_CONTAINERS.test(k)));
  for (const [name, value] of Object.entries(spec.variables)) env[name.toUpperCase()] = value;
  Object.assign(env, spec.env, {
    DSTACK_RUN_NAME: assignment.run.name,
    DSTACK_JOB_ID: assignment.job.id,
    DSTACK_WORKFLOW: spec.workflow,
    run_name: assignment.run.name,
    job_id: assignment.job.id,
  });
  // In a container the assigned GPUs are its only ones, numbered from 0 by the runtime.
  if (where === 'host') env.CUDA_VISIBLE_DEVICES = (assignment.job.gpus ?? []).map((g) => g.index).join(',');
  return env;
}
