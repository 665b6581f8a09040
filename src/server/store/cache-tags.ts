/** Queries for the cache (reusable and joinable jobs), tags and pruning. */
import { sql, type Kysely } from 'kysely';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { ArtifactManifest, JobRecord, RunRecord } from '../../core/records.js';
import { batches } from './batches.js';
import { isUniqueViolation } from './db-errors.js';
import { jobFromRow, runFromRow, tagKey } from './mapping.js';
import { hasUnfinishedJob, UNFINISHED } from './run-queries.js';
import type { Database } from './schema.js';
import type { TagScope } from './store.js';

export async function findDoneJob(db: Kysely<Database>, cacheKey: string): Promise<JobRecord | undefined> {
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('cache_key', '=', cacheKey)
    .where('status', '=', 'DONE')
    .where('cached_from', 'is', null)
    .orderBy('finished_at', 'desc')
    .executeTakeFirst();
  return row && jobFromRow(row);
}

export async function findActiveJob(db: Kysely<Database>, cacheKey: string): Promise<JobRecord | undefined> {
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('cache_key', '=', cacheKey)
    .where('status', 'in', UNFINISHED)
    .where('cached_from', 'is', null)
    .orderBy('submitted_at')
    .executeTakeFirst();
  return row && jobFromRow(row);
}

export async function followersOf(db: Kysely<Database>, jobId: string): Promise<JobRecord[]> {
  const rows = await db
    .selectFrom('jobs')
    .selectAll()
    .where('cached_from', '=', jobId)
    .where('status', 'in', UNFINISHED)
    .execute();
  return rows.map(jobFromRow);
}

/** Tag the run among its user's runs of its project (or untag it: null). */
export async function setTag(db: Kysely<Database>, runName: string, tag: string | null): Promise<void> {
  try {
    const key = tag === null ? null : sql<string>`${sql.ref('user')} || ':' || ${sql.ref('project')} || ${`:${tag}`}`;
    const result = await db.updateTable('runs').set({ tag: key }).where('name', '=', runName).executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new NotFoundError(`no run named '${runName}'`);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`tag '${tag}' already exists`, { cause: err });
    throw err;
  }
}

/**
 * Give the run the tag it is promised now (`dstack run --tag`), read in the same statement: a
 * promise dropped after the caller read the run (`tags delete`, `resume --no-tag`) gives none.
 * Returns the tag given; ConflictError when another run has it.
 */
export async function keepTagPromise(db: Kysely<Database>, runName: string): Promise<string | undefined> {
  try {
    const key = sql<string>`${sql.ref('user')} || ':' || ${sql.ref('project')} || ':' || ${sql.ref('tag_on_done')}`;
    const row = await db
      .updateTable('runs')
      .set({ tag: key })
      .where('name', '=', runName)
      .where('tag_on_done', 'is not', null)
      .returning('tag_on_done')
      .executeTakeFirst();
    return row?.tag_on_done ?? undefined;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError(`the tag promised to run ${runName} exists already`, { cause: err });
    throw err;
  }
}

/** The run is no longer to be tagged when it ends DONE (`dstack resume --no-tag`). */
export async function dropTagPromise(db: Kysely<Database>, runName: string): Promise<void> {
  const result = await db.updateTable('runs').set({ tag_on_done: null }).where('name', '=', runName).executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new NotFoundError(`no run named '${runName}'`);
}

export async function getRunByTag(
  db: Kysely<Database>,
  { user, project }: TagScope,
  tag: string,
): Promise<RunRecord | undefined> {
  const row = await db
    .selectFrom('runs')
    .selectAll()
    .where('tag', '=', tagKey(user, project, tag))
    .executeTakeFirst();
  return row && runFromRow(row);
}

/**
 * An unfinished run in the scope, other than `except`, submitted to be tagged `tag` once DONE:
 * the query, for its plan to be checked (it reads `runs_tag_on_done`, migration 0016).
 */
export function promisedTagQuery(db: Kysely<Database>, { user, project }: TagScope, tag: string, except?: string) {
  let query = db
    .selectFrom('runs')
    .selectAll('runs')
    .where('runs.tag_on_done', '=', tag)
    .where('runs.user', '=', user)
    .where('runs.project', '=', project)
    .where(hasUnfinishedJob);
  if (except !== undefined) query = query.where('runs.name', '<>', except);
  return query.orderBy('runs.submitted_at').limit(1);
}

/** An unfinished run in the scope, other than `except`, submitted to be tagged `tag` once DONE. */
export async function runPromisedTag(
  db: Kysely<Database>,
  scope: TagScope,
  tag: string,
  except?: string,
): Promise<RunRecord | undefined> {
  const row = await promisedTagQuery(db, scope, tag, except).executeTakeFirst();
  return row && runFromRow(row);
}

/**
 * Unfinished runs submitted with a tag, that have none yet: the tag is promised to them, newest
 * first. (An unfinished run has no tag: only a DONE run is tagged, and none is resumed.)
 * Put in order here: ordered in SQL, SQLite walked every run by time rather than the few
 * submitted with a tag (`runs_tag_on_done`).
 */
export async function promisedTagRuns(db: Kysely<Database>): Promise<RunRecord[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll('runs')
    .where('runs.tag_on_done', 'is not', null)
    .where(hasUnfinishedJob)
    .execute();
  return newestFirst(rows.map(runFromRow).filter((run) => run.tag === undefined));
}

/** Runs that have a tag, newest first; ordered here, as promisedTagRuns, so the tag's index is read rather than every run. */
export async function taggedRuns(db: Kysely<Database>): Promise<RunRecord[]> {
  // `>= ''` holds for every text and no null, as `is not null` does, but SQLite reads it from the tag's index.
  const rows = await db.selectFrom('runs').selectAll().where('tag', '>=', '').execute();
  return newestFirst(rows.map(runFromRow));
}

/** Newest submitted first; equal times by name, descending, as listRuns orders them. */
function newestFirst(runs: RunRecord[]): RunRecord[] {
  return runs.sort((a, b) => b.submittedAt - a.submittedAt || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/** Run names per statement. */
const DELETE_BATCH = 1000;

export async function deleteRuns(db: Kysely<Database>, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  // A prune may name more runs than one statement can bind: delete in batches, all in one transaction.
  await db.transaction().execute(async (trx) => {
    for (const batch of batches(names, DELETE_BATCH)) {
      const jobs = trx.selectFrom('jobs').select('id').where('run_name', 'in', batch);
      await trx.deleteFrom('job_events').where('job_id', 'in', jobs).execute();
      await trx.deleteFrom('job_deps').where('job_id', 'in', jobs).execute();
      await trx.deleteFrom('artifacts').where('job_id', 'in', jobs).execute();
      await trx.deleteFrom('log_archives').where('job_id', 'in', jobs).execute();
      await trx.deleteFrom('slurm_jobs').where('job_id', 'in', jobs).execute();
      await trx.deleteFrom('jobs').where('run_name', 'in', batch).execute();
      await trx.deleteFrom('runs').where('name', 'in', batch).execute();
    }
  });
}

/**
 * Stored artifact manifests in job id order, the first `limit` after job `after` (from the first,
 * absent): a prune reads them a page at a time. Read all at once, every manifest of the history
 * was in memory together, parsed (hundreds of megabytes on a server of a year).
 */
export async function artifactsAfter(
  db: Kysely<Database>,
  after: string | undefined,
  limit: number,
): Promise<{ jobId: string; manifest: ArtifactManifest }[]> {
  let query = db.selectFrom('artifacts').selectAll().orderBy('job_id').limit(limit);
  if (after !== undefined) query = query.where('job_id', '>', after);
  const rows = await query.execute();
  return rows.map((r) => ({ jobId: r.job_id, manifest: JSON.parse(r.manifest) as ArtifactManifest }));
}
