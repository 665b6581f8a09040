/**
 * Starting a job the way its provider runs: `curl` downloads in the runner, `python` runs its
 * script in a cached virtualenv, and every other job (bash, docker, a custom provider's) runs
 * its commands, in a container when it has an image. The curl and python modules load only
 * for their jobs: whatever loads before a job's first command is on its start latency.
 */
import { substitute } from '../core/variables.js';
import type { Execution } from './executors/executor.js';
import { jobTarget, type LaunchContext } from './job-target.js';

export type { LaunchContext } from './job-target.js';

export async function launchJob(ctx: LaunchContext): Promise<Execution> {
  const { assignment } = ctx;
  const spec = assignment.job.spec;
  // Left in place by the planner so that a job's cache key does not depend on its run.
  const runtime = new Map([
    ['run_name', assignment.run.name],
    ['job_id', assignment.job.id],
  ]);
  const expand = (text: string) => substitute(text, runtime);
  switch (spec.provider) {
    case 'curl': {
      const { startFetch } = await import('./fetch-job.js');
      return startFetch({
        url: expand(String(spec.params.url ?? '')),
        output: expand(String(spec.params.output ?? '')),
        workspace: ctx.workspace,
        note: ctx.note,
      });
    }
    case 'python': {
      const { startPython } = await import('./python-job.js');
      return startPython(ctx, expand);
    }
    default:
      return jobTarget(ctx, spec.image).start(spec.commands.map(expand));
  }
}
