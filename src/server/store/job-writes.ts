/**
 * The writes that must be atomic: creating a run with its jobs and their first events, and
 * the guarded status update that makes two writers never both win.
 */
import type { Kysely, Transaction, Updateable } from 'kysely';
import { ConflictError, InternalError } from '../../core/errors.js';
import { isFinished, type JobStatus, type TransitionResult } from '../../core/job-status.js';
import type { JobRecord, RunRecord } from '../../core/records.js';
import { batches, IN_BATCH } from './batches.js';
import { isUniqueViolation } from './db-errors.js';
import { jobFromRow, jobToRow, patchToRow, runToRow, tagKey } from './mapping.js';
import type { Database, JobsTable } from './schema.js';
import type { TransitionGuard, TransitionPatch } from './store.js';

/**
 * Jobs per insert statement: 21 columns each keeps a batch far below the bound-parameter
 * limits (SQLite 32,766; PostgreSQL 65,535).
 */
const INSERT_BATCH = 100;
/** Dependency rows per insert (two parameters each). */
const DEPS_BATCH = 1000;

/** Who changed a job's status, and when (epoch ms). */
export interface EventStamp {
  actor: string;
  at: number;
}

/**
 * The SET of an update from `from` to `to`: the status only when it changes (or the patch is
 * empty, for a valid UPDATE), since SQLite rewrites every index holding a column that is SET,
 * its value changed or not: a waiting job's new reason rewrote its four status indexes.
 */
function setting(patch: TransitionPatch, from: JobStatus, to: JobStatus): Updateable<JobsTable> {
  const set = patchToRow(patch);
  return from !== to || Object.keys(set).length === 0 ? { ...set, status: to } : set;
}

/**
 * `UPDATE jobs SET status = to, …patch WHERE id = ? AND status = from`; on success, with an
 * event when `stamp` is given. Run it inside a transaction so the event and the update land together.
 */
export async function guardedUpdate(
  trx: Transaction<Database>,
  id: string,
  from: JobStatus,
  to: JobStatus,
  patch: TransitionPatch,
  stamp?: EventStamp,
  guard: TransitionGuard = {},
): Promise<TransitionResult<JobRecord>> {
  let update = trx
    .updateTable('jobs')
    .set(setting(patch, from, to))
    .where('id', '=', id)
    .where('status', '=', from);
  if (guard.runner !== undefined) update = update.where('runner', '=', guard.runner);
  const row = await update.returningAll().executeTakeFirst();
  if (row === undefined) {
    const current = await trx.selectFrom('jobs').select('status').where('id', '=', id).executeTakeFirst();
    return current === undefined
      ? { ok: false, reason: 'not_found' }
      : { ok: false, reason: 'status_mismatch', actual: current.status };
  }
  if (stamp !== undefined) {
    await trx
      .insertInto('job_events')
      .values({
        job_id: id,
        at: stamp.at,
        from_status: from,
        to_status: to,
        // Only the reason this transition gives: a reason left from the previous status would mislead.
        reason: patch.reason ?? null,
        actor: stamp.actor,
      })
      .execute();
  }
  return { ok: true, value: jobFromRow(row) };
}

/**
 * One patch to many jobs still in `expected`, `IN_BATCH` ids a statement, in one transaction:
 * a submission's 10,000 waiting jobs told why they wait were as many transactions, 10,000
 * commits, the server's thread held for seconds.
 */
export async function updateJobs(
  db: Kysely<Database>,
  ids: readonly string[],
  expected: JobStatus,
  patch: TransitionPatch,
): Promise<JobRecord[]> {
  if (ids.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const updated: JobRecord[] = [];
    for (const batch of batches(ids, IN_BATCH)) {
      const rows = await trx
        .updateTable('jobs')
        .set(setting(patch, expected, expected))
        .where('id', 'in', batch)
        .where('status', '=', expected)
        .returningAll()
        .execute();
      updated.push(...rows.map(jobFromRow));
    }
    return updated;
  });
}

/** Insert a run, its jobs (in plan order) and one creation event per job, all or nothing. */
export async function insertRun(db: Kysely<Database>, run: RunRecord, jobs: JobRecord[], actor: string): Promise<void> {
  const stray = jobs.find((j) => j.runName !== run.name);
  if (stray !== undefined)
    throw new InternalError(`job ${stray.id} of run ${stray.runName} created with run ${run.name}`);
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('runs').values(runToRow(run)).execute();
      // Rows in batches: a statement per job made a 1,000-job run 2,000 statements.
      let seq = 0;
      for (const batch of batches(jobs, INSERT_BATCH)) {
        await trx
          .insertInto('jobs')
          .values(batch.map((job) => jobToRow(job, seq++)))
          .execute();
        await trx
          .insertInto('job_events')
          .values(
            batch.map((job) => ({
              job_id: job.id,
              at: job.submittedAt,
              from_status: null,
              to_status: job.status,
              reason: job.reason ?? null,
              actor,
            })),
          )
          .execute();
        // Rows only for jobs that can still wait on them: a job stored finished (a cached copy) never will.
        const deps = batch.flatMap((job) =>
          isFinished(job.status) ? [] : [...new Set(job.dependsOn)].map((dep) => ({ job_id: job.id, dep_id: dep })),
        );
        for (const rows of batches(deps, DEPS_BATCH)) await trx.insertInto('job_deps').values(rows).execute();
      }
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw await conflictFor(db, run, err);
    throw err;
  }
}

/** Name what collided, looking after the rolled-back transaction: the run name, the tag, or a job id. */
async function conflictFor(db: Kysely<Database>, run: RunRecord, cause: unknown): Promise<ConflictError> {
  const sameName = await db.selectFrom('runs').select('name').where('name', '=', run.name).executeTakeFirst();
  if (sameName !== undefined) return new ConflictError(`a run named ${run.name} already exists`, { cause });
  if (run.tag !== undefined) {
    const key = tagKey(run.user, run.project, run.tag);
    const tagged = await db.selectFrom('runs').select('name').where('tag', '=', key).executeTakeFirst();
    if (tagged !== undefined) return new ConflictError(`tag ${run.tag} is already on run ${tagged.name}`, { cause });
  }
  return new ConflictError(`run ${run.name} has a job whose id is already taken`, { cause });
}
