/** 0005: registered repos (`dstack init`), one per user and remote URL, credentials sealed. */
import type { Kysely, Migration } from 'kysely';

export const reposMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('repos')
      .addColumn('user', 'text', (c) => c.notNull())
      .addColumn('remote', 'text', (c) => c.notNull())
      .addColumn('credential_kind', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('repos_pk', ['user', 'remote'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('repos').execute();
  },
};
