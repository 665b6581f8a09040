/** The Slurm jobs each Slurm backend follows (backends/slurm/tracked-jobs.ts): one row a dstack job. */
import type { Kysely } from 'kysely';
import { NotFoundError } from '../../core/errors.js';
import { isForeignKeyViolation } from './db-errors.js';
import type { Database } from './schema.js';
import type { SlurmJobRecord } from './store.js';

export async function slurmJobs(db: Kysely<Database>, backend: string): Promise<SlurmJobRecord[]> {
  const rows = await db.selectFrom('slurm_jobs').selectAll().where('backend', '=', backend).execute();
  return rows.map((r) => {
    const job: SlurmJobRecord = { jobId: r.job_id, slurmId: r.slurm_id, submittedAt: Number(r.submitted_at) };
    if (r.dir !== null) job.dir = r.dir;
    if (r.term_at !== null) job.termAt = Number(r.term_at);
    if (r.cancel_at !== null) job.cancelAt = Number(r.cancel_at);
    if (r.ended_at !== null) job.endedAt = Number(r.ended_at);
    return job;
  });
}

export async function putSlurmJob(db: Kysely<Database>, backend: string, job: SlurmJobRecord): Promise<void> {
  const values = {
    backend,
    slurm_id: job.slurmId,
    submitted_at: job.submittedAt,
    dir: job.dir ?? null,
    term_at: job.termAt ?? null,
    cancel_at: job.cancelAt ?? null,
    ended_at: job.endedAt ?? null,
  };
  try {
    await db
      .insertInto('slurm_jobs')
      .values({ job_id: job.jobId, ...values })
      .onConflict((oc) => oc.column('job_id').doUpdateSet(values))
      .execute();
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new NotFoundError(`job ${job.jobId} not found`, { cause: err });
    throw err;
  }
}

export async function deleteSlurmJob(db: Kysely<Database>, jobId: string, slurmId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('slurm_jobs')
    .where('job_id', '=', jobId)
    .where('slurm_id', '=', slurmId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
