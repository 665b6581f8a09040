/** Runs by their status, which no column holds: it follows from their jobs' (core `runStatus`). */
import type { ExpressionBuilder, ExpressionWrapper, SqlBool } from 'kysely';
import { RUN_STATUS_ORDER, type JobStatus } from '../../core/job-status.js';
import type { Database } from './schema.js';

/**
 * `where(hasRunStatus(status))`: the run's status is `status`. It is the first status of
 * RUN_STATUS_ORDER one of its jobs has, so: a job has it and none has one before it (a run
 * without jobs is SUBMITTED).
 */
export const hasRunStatus =
  (status: JobStatus) =>
  (eb: ExpressionBuilder<Database, 'runs'>): ExpressionWrapper<Database, 'runs', SqlBool> => {
    const jobsIn = (statuses: readonly JobStatus[]) =>
      eb.exists(
        eb
          .selectFrom('jobs')
          .select('jobs.id')
          .whereRef('jobs.run_name', '=', 'runs.name')
          .where('jobs.status', 'in', statuses),
      );
    const before = RUN_STATUS_ORDER.slice(0, RUN_STATUS_ORDER.indexOf(status));
    const has =
      status === 'SUBMITTED'
        ? eb.or([
            jobsIn([status]),
            eb.not(eb.exists(eb.selectFrom('jobs').select('jobs.id').whereRef('jobs.run_name', '=', 'runs.name'))),
          ])
        : jobsIn([status]);
    return before.length === 0 ? has : eb.and([has, eb.not(jobsIn(before))]);
  };
