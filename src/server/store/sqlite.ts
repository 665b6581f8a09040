/**
 * The default store: SQLite through better-sqlite3, one file under the server's data dir.
 */
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import { readyOrClosed } from '../ready-or-closed.js';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';
import type { Store } from './store.js';
import { makeFolderSync } from '../../files/make-folder.js';

/**
 * Open (creating it and its directory if needed) a SQLite database configured for the
 * store: WAL so readers never block the writer, a 5 s busy timeout so a second process
 * waits for a lock instead of failing, and foreign keys on (SQLite leaves them off).
 * `:memory:` gives a private in-memory database.
 */
export function openSqliteDatabase(path: string): SqliteDatabase.Database {
  if (path !== ':memory:' && path !== '' && !path.startsWith('file:')) makeFolderSync(dirname(path));
  const database = new SqliteDatabase(path);
  try {
    database.pragma('journal_mode = WAL');
    // WAL with NORMAL is durable across process crashes (only an OS crash may lose the last commits) and avoids an fsync per commit.
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw err;
  }
  return database;
}

/**
 * kysely's SQLite driver, but for a rollback of a transaction SQLite has ended already: it
 * does on some errors (a full disk, an I/O error), and the failed rollback ("cannot rollback -
 * no transaction is active") then hid the error that said what happened (SQLITE_FULL).
 */
class SqliteStoreDriver extends SqliteDriver {
  constructor(private readonly database: SqliteDatabase.Database) {
    super({ database: withStatementCache(database) });
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.database.inTransaction) await super.rollbackTransaction(connection);
  }
}

/** The store's dialect over an open database (`openSqliteDatabase`). */
export class SqliteStoreDialect extends SqliteDialect {
  constructor(private readonly database: SqliteDatabase.Database) {
    super({ database });
  }

  override createDriver(): Driver {
    return new SqliteStoreDriver(this.database);
  }
}

/**
 * Open the SQLite store at `path` and bring its schema up to date.
 * Use one store per file per process: better-sqlite3 is synchronous, so a second
 * connection in the same process waiting on a lock would block the very event loop
 * that has to release it.
 */
export async function openSqliteStore(path: string): Promise<Store> {
  const db = new Kysely<Database>({ dialect: new SqliteStoreDialect(openSqliteDatabase(path)) });
  return readyOrClosed(new KyselyStore(db, { dialect: 'sqlite' }), (store) => store.migrate());
}
