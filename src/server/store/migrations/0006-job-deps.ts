/**
 * 0006: job dependencies as rows (`job_deps`), so "which waiting jobs are ready" and "who
 * waits on this job" are indexed queries instead of parsing every waiting job's
 * `depends_on` JSON on each claim. `jobs.depends_on` stays the record's source (its order);
 * `job_deps` is written with it. `dep_id` has no foreign key: a dependency may name a job
 * of a run that was since deleted, which counts as not DONE.
 */
import type { Kysely, Migration } from 'kysely';

/** Rows per backfill insert: two parameters each, far below any bound-parameter limit. */
const BATCH = 500;

export const jobDepsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('job_deps')
      .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('dep_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_deps_pk', ['job_id', 'dep_id'])
      .execute();
    await db.schema.createIndex('job_deps_dep_id').on('job_deps').column('dep_id').execute();
    // Waiting jobs are read oldest first: this index lets a ready-job query stop at its limit.
    await db.schema
      .createIndex('jobs_status_order')
      .on('jobs')
      .columns(['status', 'submitted_at', 'run_name', 'seq'])
      .execute();
    // Per-event look-ups that otherwise scan every job: a runner's unfinished jobs (all of a
    // lone runner's jobs share its name), whether a run has a job not DONE, and followers.
    await db.schema.createIndex('jobs_runner_status').on('jobs').columns(['runner', 'status']).execute();
    await db.schema.createIndex('jobs_run_status').on('jobs').columns(['run_name', 'status']).execute();
    await db.schema.createIndex('jobs_cached_from').on('jobs').column('cached_from').execute();
    // Runs stored before this migration: their dependencies move into rows too.
    const d = db as Kysely<{ jobs: { id: string; depends_on: string }; job_deps: { job_id: string; dep_id: string } }>;
    const rows = await d.selectFrom('jobs').select(['id', 'depends_on']).where('depends_on', '<>', '[]').execute();
    const pairs = rows.flatMap((r) =>
      [...new Set(JSON.parse(r.depends_on) as string[])].map((dep) => ({ job_id: r.id, dep_id: dep })),
    );
    for (let i = 0; i < pairs.length; i += BATCH)
      await d
        .insertInto('job_deps')
        .values(pairs.slice(i, i + BATCH))
        .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const index of ['jobs_cached_from', 'jobs_run_status', 'jobs_runner_status', 'jobs_status_order'])
      await db.schema.dropIndex(index).execute();
    await db.schema.dropTable('job_deps').execute();
  },
};
