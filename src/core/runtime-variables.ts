/**
 * `$run_name` and `$job_id`: the planner leaves them in place, so that a job's cache key does
 * not depend on the run it was submitted in (docs/decisions.md); the runner fills them in here,
 * once, in every field of the spec it reads, before anything of the job starts. dstack's own
 * environment settings are made here too, for the host and the container alike.
 */
import type { JobSpec } from './job-spec.js';
import { mapStrings } from './map-strings.js';
import { RUNTIME_VARIABLES } from './variables.js';

/** What a job's runtime variables stand for. */
export interface RuntimeValues {
  runName: string;
  jobId: string;
}

/**
 * `spec` with `$run_name`, `${job_id}`, `${{ run_name }}`… filled in wherever the runner reads a
 * string: commands, environment values, artifacts, working folder, image, provider parameters.
 * Fields read before the job runs (inputs, resources, dependencies) cannot hold them: the planner refuses them there.
 */
export function withRuntimeVariables(spec: JobSpec, values: RuntimeValues): JobSpec {
  const value = (name: string) => (name === 'run_name' ? values.runName : values.jobId);
  // Only these two: whatever else a custom provider's job holds (`${{ github.sha }}`) is the job's own text.
  // An escaped one (`$$run_name`, substitute() in variables.ts) is written as it is, one `$` less.
  const fill = (text: string) =>
    text.includes('$')
      ? text.replace(RUNTIME, (match, a?: string, b?: string, c?: string) =>
          match.startsWith('$$') ? match.slice(1) : value((a ?? b ?? c)!),
        )
      : text;
  const filled: JobSpec = {
    ...spec,
    commands: spec.commands.map(fill),
    env: Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, fill(v)])),
    artifacts: spec.artifacts.map(fill),
    params: mapStrings(spec.params, fill),
  };
  if (spec.image !== undefined) filled.image = fill(spec.image);
  if (spec.workingDir !== undefined) filled.workingDir = fill(spec.workingDir);
  return filled;
}

/** `text` without its `$run_name` and `$job_id` references: what of it the runner takes as written. */
export function withoutRuntimeVariables(text: string): string {
  return text.includes('$') ? text.replace(RUNTIME, '') : text;
}

const NAMES = RUNTIME_VARIABLES.join('|');
// As substitute() reads them: `${{ run_name }}`, `${run_name}`, and `$run_name` not followed by more of a name.
// With a `$` before it, escaped: `$$run_name`.
const RUNTIME = new RegExp(
  `\\$?(?:\\$\\{\\{\\s*(${NAMES})\\s*\\}\\}|\\$\\{(${NAMES})\\}|\\$(${NAMES})(?![A-Za-z0-9_]))`,
  'g',
);

/**
 * The settings dstack gives every job, on the host and in a container. `environment:` may name
 * them (`WANDB_NAME: run-$DSTACK_RUN_NAME`), and cannot replace them.
 */
export function dstackEnvironment(values: RuntimeValues, workflow: string): Record<string, string> {
  return {
    DSTACK_RUN_NAME: values.runName,
    DSTACK_JOB_ID: values.jobId,
    DSTACK_WORKFLOW: workflow,
    run_name: values.runName,
    job_id: values.jobId,
  };
}

/** The names of dstackEnvironment's settings: config/ refuses them as `environment:` keys. */
export const DSTACK_ENVIRONMENT: ReadonlySet<string> = new Set(
  Object.keys(dstackEnvironment({ runName: '', jobId: '' }, '')),
);
