/**
 * 0012: where each finished job's log was archived in the blob store (storage.md, "Logs"):
 * a server on a new data folder, with the same database and storage, restores it from there.
 */
import type { Kysely, Migration } from 'kysely';

export const logArchivesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('log_archives')
      .addColumn('job_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('last_seq', 'bigint', (c) => c.notNull())
      .addColumn('archived_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('log_archives').execute();
  },
};
