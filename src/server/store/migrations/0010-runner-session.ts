/**
 * 0010: a runner's registered session, the random id its process sent at `register`: a
 * second process with the same token cannot take the runner over while this one is heard
 * from, and a process that was replaced is refused. Null: registered by a runner that sends
 * none (an older runner, or a server's Slurm backend).
 */
import type { Kysely, Migration } from 'kysely';

export const runnerSessionMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('runners').addColumn('session', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('runners').dropColumn('session').execute();
  },
};
