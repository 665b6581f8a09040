/**
 * 0011: whether a run was submitted with `--no-cache`: a job of it that is resumed without
 * having started is decided afresh as its submission was, so without the cache. Null for the
 * runs stored before (they resume with it).
 */
import type { Kysely, Migration } from 'kysely';

export const runNoCacheMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('runs').addColumn('no_cache', 'boolean').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('runs').dropColumn('no_cache').execute();
  },
};
