/**
 * 0014: the Slurm jobs a Slurm backend submitted and still follows (docs/slurm.md), in the
 * database rather than a file in the data dir: a server started on a new data folder with the
 * same database goes on tracking them. One row a dstack job (its latest submission).
 */
import type { Kysely, Migration } from 'kysely';

export const slurmJobsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('slurm_jobs')
      .addColumn('job_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
      .addColumn('backend', 'text', (c) => c.notNull())
      .addColumn('slurm_id', 'text', (c) => c.notNull())
      .addColumn('submitted_at', 'bigint', (c) => c.notNull())
      .addColumn('dir', 'text')
      .addColumn('term_at', 'bigint')
      .addColumn('cancel_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('slurm_jobs').execute();
  },
};
