/**
 * The PostgreSQL store (`dstack server --database postgres://…`): the same KyselyStore as
 * SQLite, over node-postgres. 64-bit integers (times in ms) are read as JS numbers: every
 * value dstack stores fits one exactly, and records compare equal across both engines.
 */
import { once } from 'node:events';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { UnavailableError, UsageError } from '../../core/errors.js';
import { atAfterHost, redactUrl } from '../../core/redact-url.js';
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

export interface PostgresStoreOptions {
  maxConnections?: number;
  /** How the user gave the URL, for messages: `--database` (the default) or `DSTACK_DATABASE_URL`. */
  setting?: string;
}

/**
 * Open the store at `url` and bring its schema up to date. UnavailableError (naming the
 * server, never the password) when PostgreSQL cannot be reached.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  await tryConnecting(url, options.setting ?? '--database');
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types });
  // A client that loses its connection (PostgreSQL restarted, the backend terminated) emits
  // 'error': an idle one on the pool, a checked-out one between its queries on itself. Without
  // a listener either would crash the server; its next query fails instead, as an outage.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const store = new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), {
    dialect: 'postgres',
  });
  return readyOrClosed(store, (s) => s.migrate());
}

/**
 * A client for `url`, not yet connected; a UsageError naming `setting` (and not the password)
 * when node-postgres cannot read the URL: it threw its parser's bare `Invalid URL`.
 */
function readableClient(url: string, setting: string): pg.Client {
  if (atAfterHost(url)) {
    throw new UsageError(
      `invalid ${setting} '${redactUrl(url)}': an '@' after the host (in a user name or password, ` +
        'percent-encode @ : / ? # [ ] and %); use postgres://USER:PASSWORD@HOST:PORT/DATABASE',
    );
  }
  try {
    return new pg.Client({ connectionString: url });
  } catch (e) {
    // No cause kept: the parser's error may hold the URL, password and all.
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ERR_INVALID_URL' || e instanceof URIError
        ? 'not a URL (in a user name or password, percent-encode @ : / ? # [ ] and %)'
        : (e as Error).message; // an sslcert, sslkey or sslrootcert file it cannot read
    throw new UsageError(
      `invalid ${setting} '${redactUrl(url)}': ${why}; use postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    );
  }
}

/**
 * Connect once, on a client of its own: a pool drops a client that failed to connect without
 * closing its socket, and a failed authentication (no password for a scram login) left that
 * socket open, waiting on the server, and the failed `dstack server` with it.
 */
async function tryConnecting(url: string, setting: string): Promise<void> {
  const client = readableClient(url, setting);
  try {
    await client.connect();
  } catch (e) {
    const socket = client.connection.stream;
    const closed = socket.closed ? undefined : once(socket, 'close');
    socket.destroy();
    await closed;
    // No password from the URL, PGPASSWORD or ~/.pgpass, and the server asked for one.
    const noPassword =
      client.password == null &&
      ((e as { code?: string }).code === '28P01' || /password must be a string/.test((e as Error).message));
    const why = noPassword
      ? `no password given, and the server asks for one: add it to ${setting} (postgres://USER:PASSWORD@HOST:PORT/DATABASE) or set PGPASSWORD`
      : (e as Error).message;
    throw new UnavailableError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${why}`, { cause: e });
  }
  await client.end();
}
