/**
 * A RUN or JOB argument that names neither but a workflow (`dstack logs train`), as people who
 * think in workflows type it: the not-found error also names that workflow's last job in this
 * project, and the command that was likely meant. Asked only once the server has said no.
 */
import type { Client } from '../client/client.js';
import { NotFoundError } from '../core/errors.js';
import { JOB_ID } from '../core/run-names.js';
import { printable } from './format.js';
import { projectPlace } from './project-scope.js';

/** Runs looked through for the workflow's last job: a workflow run longer ago is not what was meant. */
const RECENT_RUNS = 50;

/**
 * `call()`, its NotFoundError said again with the last job of a workflow named `target`, as
 * `dstack COMMAND JOB` (`takes: 'run'`: as `dstack COMMAND RUN`, for a command that takes a run).
 */
export async function withWorkflowHint<T>(
  client: Client,
  target: string,
  command: string,
  call: () => Promise<T>,
  takes: 'job' | 'run' = 'job',
): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof NotFoundError) || JOB_ID.test(target)) throw e;
    const hint = await lastJobOf(client, target).catch(() => undefined);
    if (hint === undefined) throw e;
    const named = takes === 'job' ? hint.job : hint.run;
    throw new NotFoundError(
      `${e.message}; '${printable(target)}' is a workflow, whose last job here is ${hint.job} (run ${hint.run}): ` +
        `dstack ${command} ${named}`,
    );
  }
}

/** The newest job of `workflow` among this project's recent runs, if it ran. */
async function lastJobOf(client: Client, workflow: string): Promise<{ job: string; run: string } | undefined> {
  const place = await projectPlace(false);
  if (place === undefined) return undefined;
  // Newest first (the server's order); the caller's own, as the command it answers would see.
  for (const run of await client.listRuns({ project: place.key, last: RECENT_RUNS, mine: true })) {
    const job = run.jobs.findLast((j) => j.workflow === workflow);
    if (job) return { job: job.id, run: run.name };
  }
  return undefined;
}
