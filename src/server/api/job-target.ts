/** A job named by its id for a route under `/jobs/:id/…`, or a run by its name under `/runs/:name/…`, as its owner (or an admin) may see it. */
import { NotFoundError } from '../../core/errors.js';
import type { JobRecord, RunRecord } from '../../core/records.js';
import { resolveTarget } from '../queries.js';
import type { Store, TokenRecord } from '../store/store.js';

/** The job `id` (or the start of its id) and its run; NotFoundError for a run's name, another user's job, or no such job. */
export async function resolveJob(
  store: Store,
  caller: TokenRecord,
  id: string,
): Promise<{ job: JobRecord; run: RunRecord }> {
  const target = await resolveTarget(store, caller, id);
  if (target.run.name === id) {
    throw new NotFoundError(`'${id}' is a run, not a job: name one of its jobs ('dstack status ${id}' lists them)`);
  }
  // `id` may be the start of the job's id (queries.ts): the job is the one it named.
  if (!target.job) throw new NotFoundError(`no job '${id}'`);
  return { job: target.job, run: target.run };
}

/** The run `name` and its jobs; NotFoundError for a job's id, another user's run, or no such run. */
export async function resolveRun(
  store: Store,
  caller: TokenRecord,
  name: string,
): Promise<{ run: RunRecord; jobs: JobRecord[] }> {
  const target = await resolveTarget(store, caller, name);
  if (target.run.name !== name) {
    throw new NotFoundError(
      `'${name}' is a job of run ${target.run.name}, not a run: name the run, or download the job's own log`,
    );
  }
  return { run: target.run, jobs: target.jobs };
}
