/**
 * 0015: whether the job a job reuses or joins (`cached_from`) is another user's run's. The
 * cache is the team's, but whose job answered is not the reader's to know: views then name
 * it "another user's job", never its run or id. Null for jobs stored before, and for a job
 * whose source is its own user's.
 */
import type { Kysely, Migration } from 'kysely';

export const cachedFromAnotherUserMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('cached_from_another_user', 'boolean').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').dropColumn('cached_from_another_user').execute();
  },
};
