/** Read-side helpers: runs with their jobs, and `RUN | JOB` targets as the CLI names them. */
import { ConflictError, NotFoundError } from '../core/errors.js';
import { isFinished, runStatus, type JobStatus } from '../core/job-status.js';
import type { JobRecord, RunRecord, RunView } from '../core/records.js';
import { JOB_ID, JOB_ID_PREFIX } from '../core/run-names.js';
import type { Store, TokenRecord } from './store/store.js';

export async function runViews(store: Store, runs: readonly RunRecord[]): Promise<RunView[]> {
  const jobs = await store.jobsOfRuns(runs.map((r) => r.name));
  return runs.map((run) => {
    const own = jobs.filter((j) => j.runName === run.name);
    return { ...run, status: runStatus(own.map((j) => j.status)), jobs: own };
  });
}

/** Which runs `listRuns` lists; each narrows them, absent: any. */
export interface RunFilters {
  last?: number | undefined;
  project?: string | undefined;
  workflow?: string | undefined;
  status?: JobStatus | undefined;
  mine?: boolean | undefined;
}

/**
 * `dstack status`: the unfinished runs, or the last finished one when none is unfinished; or
 * the last N. Those of one project, or of all; an admin's of every user, unless `mine`. The
 * dashboard's filters (workflow, status) narrow the runs before the last N are taken.
 */
export async function listRuns(
  store: Store,
  user: TokenRecord,
  { last, project, workflow, status, mine }: RunFilters,
): Promise<RunView[]> {
  const whose = user.admin && !mine ? {} : { user: user.name };
  const scope = { ...whose, project, workflow, status };
  if (last !== undefined) return runViews(store, await store.listRuns({ ...scope, limit: last }));
  const unfinished = await store.listRuns({ ...scope, unfinished: true });
  return runViews(store, unfinished.length > 0 ? unfinished : await store.listRuns({ ...scope, limit: 1 }));
}

export interface Target {
  run: RunRecord;
  /** All jobs of the run. */
  jobs: JobRecord[];
  /** The jobs the target names: one job, or every job of the run. */
  selected: JobRecord[];
  /** The job a job id named; absent when the target named the run (even a run of one job). */
  job?: JobRecord;
}

/**
 * Resolve a run name or job id the user typed; only the owner (or an admin) may see it. Another
 * user's is answered as one that does not exist: run names are guessable, and a different answer
 * would tell which names other users' runs have.
 */
export async function resolveTarget(store: Store, user: TokenRecord, target: string): Promise<Target> {
  const job = JOB_ID.test(target) ? await store.getJob(target) : await jobOfShortId(store, user, target);
  const run = await store.getRun(job ? job.runName : target);
  if (!run || (!user.admin && run.user !== user.name)) {
    const start = JOB_ID_PREFIX.test(target) ? ', nor a job whose id starts with it' : '';
    throw new NotFoundError(`no run or job named '${target}'${start} (see 'dstack status --last 10')`);
  }
  const jobs = await store.jobsOfRuns([run.name]);
  if (!job) return { run, jobs, selected: jobs };
  const selected = jobs.filter((j) => j.id === job.id);
  return { run, jobs, selected, ...(selected[0] && { job: selected[0] }) };
}

/** Jobs an ambiguous short id lists: enough to choose by, without a page of them. */
const AMBIGUOUS_SHOWN = 10;

/**
 * The one job of the caller's (every user's, for an admin) whose id starts with `target`, when it
 * looks like a job id's start (core/run-names.ts JOB_ID_PREFIX) and names no run; ConflictError
 * listing the jobs when it starts several, which the caller sees anyway. Another user's job is
 * never counted: it would tell that such an id exists.
 */
async function jobOfShortId(
  store: Store,
  user: TokenRecord,
  target: string,
): Promise<{ runName: string; id: string } | undefined> {
  if (!JOB_ID_PREFIX.test(target) || (await store.getRun(target))) return undefined;
  const matches = await store.jobsWithIdPrefix(target, user.admin ? undefined : user.name, AMBIGUOUS_SHOWN + 1);
  if (matches.length <= 1) return matches[0];
  const shown = matches.slice(0, AMBIGUOUS_SHOWN).map((j) => `${j.id} ${j.ref} (run ${j.runName})`);
  const more = matches.length > AMBIGUOUS_SHOWN ? ', and more' : '';
  throw new ConflictError(
    `job id '${target}' is ambiguous: it starts the ids of ${shown.join(', ')}${more}; type more of the id`,
  );
}

export function allFinished(jobs: readonly JobRecord[]): boolean {
  return jobs.every((j) => isFinished(j.status));
}
