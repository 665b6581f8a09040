/** The run queries that need more than a lookup by key: filtered listing and prefix counting. */
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import { isFinished, JOB_STATUSES, type JobStatus } from '../../core/job-status.js';
import { batches, IN_BATCH } from './batches.js';
import { hasRunStatus } from './run-status-filter.js';
import type { Database, RunsTable } from './schema.js';
import type { RunQuery } from './store.js';

/** Statuses a job can still leave: a run with a job in one of these is unfinished. */
export const UNFINISHED: readonly JobStatus[] = JOB_STATUSES.filter((s) => !isFinished(s));

/** `where(hasUnfinishedJob)`: the run has a job in an UNFINISHED status. */
export const hasUnfinishedJob = ({ exists, selectFrom }: ExpressionBuilder<Database, 'runs'>) =>
  exists(
    selectFrom('jobs')
      .select('jobs.id')
      .whereRef('jobs.run_name', '=', 'runs.name')
      .where('jobs.status', 'in', UNFINISHED),
  );

/** Run rows matching `query`, newest first; equal times fall back to name so pages are stable. */
export async function selectRuns(db: Kysely<Database>, query: RunQuery): Promise<Selectable<RunsTable>[]> {
  if (query.unfinished) return selectUnfinishedRuns(db, query);
  if (query.status !== undefined && query.status !== 'SUBMITTED') {
    const few = await runsWithJobsIn(db, query.status);
    if (few !== undefined) return runsNamed(db, query, few);
  }
  let q = runsMatching(db, query).orderBy('runs.submitted_at', 'desc').orderBy('runs.name', 'desc');
  if (query.limit !== undefined) q = q.limit(query.limit);
  return q.execute();
}

/** The runs of `query`'s user, project, workflow and status (each where given). */
function runsMatching(db: Kysely<Database>, query: RunQuery) {
  let q = db.selectFrom('runs').selectAll('runs');
  if (query.user !== undefined) q = q.where('runs.user', '=', query.user);
  if (query.project !== undefined) q = q.where('runs.project', '=', query.project);
  if (query.workflow !== undefined) q = q.where('runs.workflow', '=', query.workflow);
  if (query.status !== undefined) q = q.where(hasRunStatus(query.status));
  if (query.since !== undefined) q = q.where('runs.submitted_at', '>=', query.since);
  return q;
}

/**
 * `selectRuns` of the unfinished runs: found from their jobs (the status index holds the few
 * unfinished ones), then read by name. Filtered the other way, every run of the user or project
 * was probed for an unfinished job: `dstack status` took 0.3 s of the database at 56,000 runs
 * of one project, and grew with the history (SQLite, without statistics, chose that plan).
 */
async function selectUnfinishedRuns(db: Kysely<Database>, query: RunQuery): Promise<Selectable<RunsTable>[]> {
  const names = await db.selectFrom('jobs').select('run_name').distinct().where('status', 'in', UNFINISHED).execute();
  return runsNamed(
    db,
    query,
    names.map((n) => n.run_name),
  );
}

/**
 * Runs a status filter reads by name rather than walking every run newest first: a status
 * fewer runs' jobs have than this. The walk stops at its limit, so it suits a common status
 * (DONE: the first 50 runs of the walk are nearly all DONE); for a rare one (ABORTED, RUNNING)
 * it read every run, 0.2–0.4 s at 99,000 runs for a dashboard polling every 2 s.
 */
const FEW_RUNS = IN_BATCH;

/**
 * The names of the runs with a job in `status`, from the jobs' status index, when they are at
 * most FEW_RUNS; undefined when there are more. A run's status is one its jobs have, so these
 * hold every run of that status (filtered by `hasRunStatus` as they are read). Not for
 * SUBMITTED: a run without jobs is SUBMITTED too.
 */
async function runsWithJobsIn(db: Kysely<Database>, status: JobStatus): Promise<string[] | undefined> {
  const rows = await db
    .selectFrom('jobs')
    .select('run_name')
    .distinct()
    .where('status', '=', status)
    .limit(FEW_RUNS + 1)
    .execute();
  return rows.length > FEW_RUNS ? undefined : rows.map((r) => r.run_name);
}

/** `selectRuns` among the runs named `names`: read in batches, then ordered (and cut to the limit) here. */
async function runsNamed(
  db: Kysely<Database>,
  query: RunQuery,
  names: readonly string[],
): Promise<Selectable<RunsTable>[]> {
  const rows: Selectable<RunsTable>[] = [];
  for (const batch of batches(names, IN_BATCH)) {
    rows.push(...(await runsMatching(db, query).where('runs.name', 'in', batch).execute()));
  }
  rows.sort(
    (a, b) => Number(b.submitted_at) - Number(a.submitted_at) || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0),
  );
  return query.limit === undefined ? rows : rows.slice(0, query.limit);
}

/** How many run names start with `prefix`, compared exactly. */
export async function countRunsWithPrefix(db: Kysely<Database>, prefix: string): Promise<number> {
  // substr, not LIKE: LIKE treats % and _ as wildcards and is case-insensitive in SQLite but not in PostgreSQL.
  // substr counts characters, so the length is in code points, not UTF-16 units.
  const length = [...prefix].length;
  const row = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll().as('n'))
    .where(sql<string>`substr(${sql.ref('name')}, 1, ${length})`, '=', prefix)
    .executeTakeFirstOrThrow();
  // COUNT is a bigint in PostgreSQL, which its driver returns as a string.
  return Number(row.n);
}
