/**
 * Starting a job the way its provider runs: `curl` downloads in the runner, `python` runs its
 * script in a cached virtualenv, and every other job (bash, docker, a custom provider's) runs
 * its commands, in a container when it has an image. The curl and python modules load only
 * for their jobs: whatever loads before a job's first command is on its start latency.
 * The spec's `$run_name` and `$job_id` are filled in already (JobRun).
 */
import type { Execution } from './executors/executor.js';
import { jobTarget, type LaunchContext } from './job-target.js';

export type { LaunchContext } from './job-target.js';

export async function launchJob(ctx: LaunchContext): Promise<Execution> {
  const spec = ctx.assignment.job.spec;
  switch (spec.provider) {
    case 'curl': {
      const { startFetch } = await import('./fetch-job.js');
      return startFetch({
        url: String(spec.params.url ?? ''),
        output: String(spec.params.output ?? ''),
        workspace: ctx.workspace,
        note: ctx.note,
      });
    }
    case 'python': {
      const { startPython } = await import('./python-job.js');
      return startPython(ctx);
    }
    default:
      return jobTarget(ctx, spec.image).start(spec.commands);
  }
}
