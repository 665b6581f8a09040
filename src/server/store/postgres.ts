/**
 * The PostgreSQL store (`dstack server --database postgres://…`): the same KyselyStore as
 * SQLite, over node-postgres. 64-bit integers (times in ms) are read as JS numbers: every
 * value dstack stores fits one exactly, and records compare equal across both engines.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { UnavailableError } from '../../core/errors.js';
import { readyOrClosed } from '../ready-or-closed.js';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

const INT8_OID = 20;

/** Type parsers for this pool only: the pg module's global parsers are left alone. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/**
 * Open the store at `url` and bring its schema up to date. UnavailableError (naming the
 * server, never the password) when PostgreSQL cannot be reached.
 */
export async function openPostgresStore(url: string, options: { maxConnections?: number } = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types });
  // An idle client that loses its connection emits 'error' on the pool; without a listener it would crash the server.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end();
    throw new UnavailableError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const store = new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), {
    dialect: 'postgres',
  });
  return readyOrClosed(store, (s) => s.migrate());
}
