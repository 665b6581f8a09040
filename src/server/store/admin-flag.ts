/** A user's admin flag, changed in place on every token of theirs (`dstack users promote/demote`). */
import type { Kysely } from 'kysely';
import type { Database, SqlDialect } from './schema.js';

/** What a change of a user's admin flag did: `unknown`, no such user; `last-admin`, refused. */
export type AdminFlagChange = 'changed' | 'unchanged' | 'unknown' | 'last-admin';

/**
 * Make user `name` an admin or not. A demotion that would leave no admin is refused. The check and
 * the change share one transaction; on PostgreSQL the admins' rows are locked first, so that two
 * admins demoting each other at once leave one (SQLite runs one writing transaction at a time).
 */
export async function setAdminFlag(
  db: Kysely<Database>,
  dialect: SqlDialect,
  name: string,
  admin: boolean,
): Promise<AdminFlagChange> {
  return db.transaction().execute(async (trx) => {
    let rows = trx
      .selectFrom('tokens')
      .select(['name', 'admin'])
      .where('kind', '=', 'user')
      .where((eb) => eb.or([eb('name', '=', name), eb('admin', '=', 1)]));
    if (dialect === 'postgres') rows = rows.forUpdate();
    const found = await rows.execute();
    const theirs = found.filter((t) => t.name === name);
    if (theirs.length === 0) return 'unknown';
    if (theirs.every((t) => Boolean(t.admin) === admin)) return 'unchanged';
    if (!admin && !found.some((t) => t.name !== name && Boolean(t.admin))) return 'last-admin';
    await trx
      .updateTable('tokens')
      .set({ admin: admin ? 1 : 0 })
      .where('kind', '=', 'user')
      .where('name', '=', name)
      .execute();
    return 'changed';
  });
}
