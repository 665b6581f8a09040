/**
 * A job's environment. On the host: the runner's own (less dstack's secrets), then the
 * variables upper-cased, then dstack's settings (DSTACK_RUN_NAME…), then `environment:` but for
 * dstack's names, which it cannot replace. In a container the image brings its own
 * PATH and HOME, so only pip's and the proxies' settings come from the runner.
 * References in `environment:` (`$PATH`, `$DSTACK_RUN_NAME`) name what comes before it: on the
 * host they are expanded here; in a container the image's environment is known only to its
 * shell, so those entries are exported by the job's script instead (`exports`), where dstack's
 * settings are already set. `$run_name` and `$job_id` were filled in with the rest of the spec.
 */
import type { Assignment } from '../core/api.js';
import { expandReferences, exportLine, hasReferences } from '../core/environment-references.js';
import { dstackEnvironment } from '../core/runtime-variables.js';

/** Runner settings that a container gets too: how to reach a package index. */
const PASSED_TO_CONTAINERS = /^(PIP_[A-Z_]+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/;

export interface JobEnvironment {
  env: Record<string, string>;
  /** Lines the job's script starts with (in a container): `environment:` entries with references. */
  exports: string[];
}

export function jobEnvironment(
  assignment: Assignment,
  baseEnv: Record<string, string>,
  where: 'host' | 'container',
): JobEnvironment {
  const spec = assignment.job.spec;
  const env: Record<string, string> =
    where === 'host'
      ? { ...baseEnv }
      : Object.fromEntries(Object.entries(baseEnv).filter(([k]) => PASSED_TO_CONTAINERS.test(k)));
  // No two share a name upper-cased: the planner refuses that (core/environment-clash.ts).
  for (const [name, value] of Object.entries(spec.variables)) env[name.toUpperCase()] = value;
  const dstack = dstackEnvironment({ runName: assignment.run.name, jobId: assignment.job.id }, spec.workflow);
  Object.assign(env, dstack);
  const exports: string[] = [];
  for (const [name, value] of Object.entries(spec.env)) {
    if (Object.hasOwn(dstack, name)) continue;
    if (!hasReferences(value)) env[name] = value;
    else if (where === 'host') env[name] = expandReferences(value, env);
    else {
      delete env[name]; // set by its export, from the image's value
      exports.push(exportLine(name, value));
    }
  }
  // In a container the assigned GPUs are its only ones, numbered from 0 by the runtime. On the
  // host they are nvidia-smi's indices, which are in PCI bus order: CUDA's own default order
  // (fastest first) could number another GPU so on a machine of mixed GPUs.
  if (where === 'host') {
    env.CUDA_VISIBLE_DEVICES = (assignment.job.gpus ?? []).map((g) => g.index).join(',');
    if (!Object.hasOwn(spec.env, 'CUDA_DEVICE_ORDER')) env.CUDA_DEVICE_ORDER = 'PCI_BUS_ID';
  }
  return { env, exports };
}

/**
 * pip's settings (`PIP_*`) in a job's environment: what pip reads besides a requirements file.
 * In a container an `environment:` entry with references is exported by the job's script, from
 * the image's environment: its text (`$HOME/wheels`) is what is known of it before.
 */
export function pipSettings(
  assignment: Assignment,
  baseEnv: Record<string, string>,
  where: 'host' | 'container',
): Record<string, string> {
  const { env } = jobEnvironment(assignment, baseEnv, where);
  const exported = Object.entries(assignment.job.spec.env).filter(([name]) => !Object.hasOwn(env, name));
  return Object.fromEntries([...Object.entries(env), ...exported].filter(([name]) => name.startsWith('PIP_')));
}
