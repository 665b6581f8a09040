/**
 * 0008: a tag names a run among its user's runs, as a user sees only their own. The `tag`
 * column holds `USER:TAG` (user names and tags have no ':'), so its UNIQUE of 0001, which
 * SQLite cannot drop without rebuilding the table, is unique per user.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const userTagsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`update runs set tag = "user" || ':' || tag where tag is not null`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    // Two users' same tag would collide as one again: the later ones are dropped.
    const rows = await sql<{
      name: string;
      tag: string;
    }>`select name, tag from runs where tag is not null order by submitted_at`.execute(db);
    const seen = new Set<string>();
    for (const { name, tag } of rows.rows) {
      const plain = tag.slice(tag.indexOf(':') + 1);
      await sql`update runs set tag = ${seen.has(plain) ? null : plain} where name = ${name}`.execute(db);
      seen.add(plain);
    }
  },
};
