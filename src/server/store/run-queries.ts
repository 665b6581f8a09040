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
  const rows: Selectable<RunsTable>[] = [];
  for (const batch of batches(
    names.map((n) => n.run_name),
    IN_BATCH,
  )) {
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
