/** Choosing the state store from `--database`: SQLite in the data dir (the default) or PostgreSQL. */
import { join } from 'node:path';
import { ConflictError, UsageError } from '../../core/errors.js';
import { NewerDatabaseError } from './migrations/index.js';
import { redactUrl } from '../../core/redact-url.js';
import { isPostgresUrl, openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/**
 * Open and migrate the store `database` names: `postgres://…`, `sqlite:PATH`, or nothing for
 * `<dataDir>/dstack.db`. `setting` is how the user gave it (`--database` or `DSTACK_DATABASE_URL`), for messages.
 */
export async function openStore(database: string | undefined, dataDir: string, setting = '--database'): Promise<Store> {
  try {
    if (!database) return await openSqliteStore(join(dataDir, 'dstack.db'));
    if (isPostgresUrl(database)) return await openPostgresStore(database, { setting });
    if (database.startsWith('sqlite:')) return await openSqliteStore(database.slice('sqlite:'.length));
  } catch (e) {
    // Which database, since a server may be pointed at another's by --database.
    if (e instanceof NewerDatabaseError)
      throw new ConflictError(`${describeDatabase(database, dataDir)}: ${e.message}`, { cause: e });
    throw e;
  }
  throw new UsageError(
    `invalid ${setting} '${redactUrl(database)}': use postgres://USER:PASSWORD@HOST:PORT/DATABASE, or sqlite:PATH`,
  );
}

/** `--database` as it may be shown in logs: the password masked. */
export function describeDatabase(database: string | undefined, dataDir: string): string {
  return database ? redactUrl(database) : join(dataDir, 'dstack.db');
}
