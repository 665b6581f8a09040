/** Where finished jobs' logs were archived (storage/log-archive.ts): one row a job. */
import type { Kysely } from 'kysely';
import { NotFoundError } from '../../core/errors.js';
import { JOB_STATUSES, isFinished } from '../../core/job-status.js';
import { isForeignKeyViolation } from './db-errors.js';
import type { Database } from './schema.js';
import type { LogArchive } from './store.js';

const FINISHED = JOB_STATUSES.filter(isFinished);

export async function setLogArchive(db: Kysely<Database>, jobId: string, archive: LogArchive): Promise<void> {
  const values = {
    digest: archive.digest,
    bytes: archive.bytes,
    last_seq: archive.lastSeq,
    archived_at: archive.archivedAt,
  };
  try {
    await db
      .insertInto('log_archives')
      .values({ job_id: jobId, ...values })
      .onConflict((oc) => oc.column('job_id').doUpdateSet(values))
      .execute();
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new NotFoundError(`job ${jobId} not found`, { cause: err });
    throw err;
  }
}

export async function getLogArchive(db: Kysely<Database>, jobId: string): Promise<LogArchive | undefined> {
  const row = await db.selectFrom('log_archives').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  return (
    row && {
      digest: row.digest,
      bytes: Number(row.bytes),
      lastSeq: Number(row.last_seq),
      archivedAt: Number(row.archived_at),
    }
  );
}

/** An archive's `last_seq` below every real one: the next archive of the log replaces it. */
const STALE = -1;

export async function markLogArchiveStale(db: Kysely<Database>, jobId: string): Promise<void> {
  await db.updateTable('log_archives').set({ last_seq: STALE }).where('job_id', '=', jobId).execute();
}

/** Every archived log's blob, by job id (for housekeeping). */
export async function allLogArchives(db: Kysely<Database>): Promise<{ jobId: string; digest: string }[]> {
  const rows = await db.selectFrom('log_archives').select(['job_id', 'digest']).execute();
  return rows.map((r) => ({ jobId: r.job_id, digest: r.digest }));
}

/**
 * Finished jobs that ran themselves (cached copies have no log of their own) and whose log is
 * not archived, or archived before lines that came late: those a server did not live to archive.
 */
export async function unarchivedLogs(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('jobs')
    .leftJoin('log_archives', 'log_archives.job_id', 'jobs.id')
    .select('jobs.id')
    .where((eb) => eb.or([eb('log_archives.job_id', 'is', null), eb('log_archives.last_seq', '=', STALE)]))
    .where('jobs.cached_from', 'is', null)
    .where('jobs.status', 'in', FINISHED)
    .execute();
  return rows.map((r) => r.id);
}
