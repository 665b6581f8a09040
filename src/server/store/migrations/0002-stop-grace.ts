/** 0002: a stop carries its grace period (`dstack stop --grace`) to the runner. */
import type { Kysely, Migration } from 'kysely';

export const stopGraceMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('stop_grace_ms', 'integer').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').dropColumn('stop_grace_ms').execute();
  },
};
