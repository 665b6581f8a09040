/** Choosing the state store from `--database`: SQLite in the data dir (the default) or PostgreSQL. */
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact-url.js';
import { isPostgresUrl, openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/**
 * Open and migrate the store `database` names: `postgres://…`, `sqlite:PATH`, or nothing for
 * `<dataDir>/dstack.db`. `setting` is how the user gave it (`--database` or `DSTACK_DATABASE_URL`), for messages.
 */
export async function openStore(database: string | undefined, dataDir: string, setting = '--database'): Promise<Store> {
  if (!database) return openSqliteStore(join(dataDir, 'dstack.db'));
  if (isPostgresUrl(database)) return openPostgresStore(database, { setting });
  if (database.startsWith('sqlite:')) return openSqliteStore(database.slice('sqlite:'.length));
  throw new UsageError(
    `invalid ${setting} '${redactUrl(database)}': use postgres://USER:PASSWORD@HOST:PORT/DATABASE, or sqlite:PATH`,
  );
}

/** `--database` as it may be shown in logs: the password masked. */
export function describeDatabase(database: string | undefined, dataDir: string): string {
  return database ? redactUrl(database) : join(dataDir, 'dstack.db');
}
