/**
 * Job reads that stay proportional to what a caller needs, not to the size of the runs:
 * the next ready jobs for a claim, the jobs waiting on one job, whether a run is all DONE,
 * and the cache look-ups of a whole submission in a few statements.
 */
import type { Kysely } from 'kysely';
import { JOB_STATUSES, type JobStatus } from '../../core/job-status.js';
import type { ArtifactManifest, JobRecord } from '../../core/records.js';
import type { JobRef } from './store.js';
import { batches, IN_BATCH } from './batches.js';
import { jobFromRow } from './mapping.js';
import { UNFINISHED } from './run-queries.js';
import type { Database } from './schema.js';

const NOT_DONE: readonly JobStatus[] = JOB_STATUSES.filter((s) => s !== 'DONE');

/**
 * SUBMITTED jobs that run themselves (not waiting on an identical job) and whose every
 * dependency is DONE, oldest submitted first; a dependency that no longer exists is not DONE.
 */
export async function readyJobs(db: Kysely<Database>, limit: number, offset: number): Promise<JobRecord[]> {
  const rows = await db
    .selectFrom('jobs')
    .selectAll('jobs')
    .where('jobs.status', '=', 'SUBMITTED')
    .where('jobs.cached_from', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('job_deps')
            .leftJoin('jobs as dep', 'dep.id', 'job_deps.dep_id')
            .select('job_deps.dep_id')
            .whereRef('job_deps.job_id', '=', 'jobs.id')
            .where((e) => e.or([e('dep.id', 'is', null), e('dep.status', '<>', 'DONE')])),
        ),
      ),
    )
    .orderBy('jobs.status')
    .orderBy('jobs.submitted_at')
    .orderBy('jobs.run_name')
    .orderBy('jobs.seq')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map(jobFromRow);
}

/** The jobs in `status` that depend on `jobId`, oldest submitted first. */
export async function dependentsIn(db: Kysely<Database>, jobId: string, status: JobStatus): Promise<JobRecord[]> {
  const rows = await db
    .selectFrom('job_deps')
    .innerJoin('jobs', 'jobs.id', 'job_deps.job_id')
    .selectAll('jobs')
    .where('job_deps.dep_id', '=', jobId)
    .where('jobs.status', '=', status)
    .orderBy('jobs.submitted_at')
    .orderBy('jobs.run_name')
    .orderBy('jobs.seq')
    .execute();
  return rows.map(jobFromRow);
}

/** Whether every job of the run is DONE (true for a run without jobs). */
export async function allJobsDone(db: Kysely<Database>, runName: string): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('run_name', '=', runName)
    // A list rather than `<>`: each status is a probe of the (run_name, status) index.
    .where('status', 'in', NOT_DONE)
    .limit(1)
    .executeTakeFirst();
  return row === undefined;
}

/** The jobs with these ids that exist, by id. */
export async function jobsByIds(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, JobRecord>> {
  const found = new Map<string, JobRecord>();
  for (const batch of batches([...new Set(ids)], IN_BATCH)) {
    const rows = await db.selectFrom('jobs').selectAll().where('id', 'in', batch).execute();
    for (const row of rows) found.set(row.id, jobFromRow(row));
  }
  return found;
}

/** Per cache key, the newest DONE job that ran itself (`findDoneJob` for many keys). */
export function findDoneJobs(db: Kysely<Database>, keys: readonly string[]): Promise<Map<string, JobRef>> {
  return firstPerCacheKey(db, keys, ['DONE'], ['finished_at', 'desc']);
}

/** Per cache key, the oldest unfinished job that runs itself (`findActiveJob` for many keys). */
export function findActiveJobs(db: Kysely<Database>, keys: readonly string[]): Promise<Map<string, JobRef>> {
  return firstPerCacheKey(db, keys, UNFINISHED, ['submitted_at', 'asc']);
}

/**
 * Per cache key, the first job in `order` among those in `statuses` that run themselves. Only
 * the id and run are read: a cached re-run looks up every job of the run, and whole rows
 * (their specs parsed) were a good part of its time.
 */
async function firstPerCacheKey(
  db: Kysely<Database>,
  keys: readonly string[],
  statuses: readonly JobStatus[],
  [column, direction]: ['finished_at' | 'submitted_at', 'asc' | 'desc'],
): Promise<Map<string, JobRef>> {
  const found = new Map<string, JobRef>();
  for (const batch of batches([...new Set(keys)], IN_BATCH)) {
    const rows = await db
      .selectFrom('jobs')
      .select(['id', 'run_name', 'cache_key'])
      .where('cache_key', 'in', batch)
      .where('status', 'in', statuses)
      .where('cached_from', 'is', null)
      .orderBy(column, direction)
      .execute();
    for (const row of rows)
      if (!found.has(row.cache_key)) found.set(row.cache_key, { id: row.id, runName: row.run_name });
  }
  return found;
}

/** The stored artifact manifests of these jobs, by job id. */
export async function artifactsOf(
  db: Kysely<Database>,
  jobIds: readonly string[],
): Promise<Map<string, ArtifactManifest>> {
  const found = new Map<string, ArtifactManifest>();
  for (const batch of batches([...new Set(jobIds)], IN_BATCH)) {
    const rows = await db.selectFrom('artifacts').selectAll().where('job_id', 'in', batch).execute();
    for (const row of rows) found.set(row.job_id, JSON.parse(row.manifest) as ArtifactManifest);
  }
  return found;
}
