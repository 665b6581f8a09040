/**
 * 0013: whether the commands of a job's latest attempt started. A resumed job that failed
 * before they did is still resumable (job-status.ts `isResumable`). Null for the jobs stored
 * before: none of them counts as such, as nothing then said whether a launch had failed.
 */
import type { Kysely, Migration } from 'kysely';

export const commandsStartedMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('commands_started', 'boolean').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').dropColumn('commands_started').execute();
  },
};
