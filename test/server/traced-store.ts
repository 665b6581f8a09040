/** A SQLite store that records each statement it runs, for tests of how many and which. */
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import { KyselyStore } from '../../src/server/store/kysely-store.js';
import type { Database } from '../../src/server/store/schema.js';
import { SqliteStoreDialect } from '../../src/server/store/sqlite.js';

/** For testApp's `open`: a migrated SQLite store whose statements, as SQLite ran them (parameters in place), go to `executed`. */
export function tracedStore(executed: string[]) {
  return async (path: string) => {
    const database = new SqliteDatabase(path, { verbose: (sql) => executed.push(String(sql)) });
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    const store = new KyselyStore(new Kysely<Database>({ dialect: new SqliteStoreDialect(database) }), {
      dialect: 'sqlite',
    });
    await store.migrate();
    return store;
  };
}
