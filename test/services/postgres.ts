/**
 * A real PostgreSQL for tests, started by scripts/start-postgres.sh (initdb in a temp dir,
 * a free port) and stopped afterwards; each suite gets a fresh database of its own.
 * When PostgreSQL cannot be started the error says how to get it: tests never skip silently.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { REPO } from './paths.js';

const exec = promisify(execFile);

export interface PostgresServer {
  /** URL of the `postgres` maintenance database. */
  url: string;
  /** Create an empty database and return its URL. */
  createDatabase(): Promise<string>;
  /**
   * Empty every table of `database` but kysely's migration records: the next store opened
   * on it is fresh, empty and migrated, in milliseconds (CREATE DATABASE takes about a second).
   */
  emptyDatabase(database: string): Promise<void>;
  /**
   * A database whose owner must give a password (scram-sha-256, as production servers ask)
   * where every other role is trusted: its URL without the password, and the password.
   */
  passwordDatabase(): Promise<{ url: string; password: string }>;
  stop(): Promise<void>;
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  let stdout: string;
  try {
    ({ stdout } = await exec('bash', [join(REPO, 'scripts', 'start-postgres.sh')], { timeout: 90_000 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `cannot start PostgreSQL for the tests (scripts/start-postgres.sh): ${err.stderr?.trim() || err.message}\n` +
        'Install it with scripts/install-test-deps.sh (apt-get install postgresql), or point PG_BIN at its bin folder.',
    );
  }
  const url = /^DATABASE_URL=(.+)$/m.exec(stdout)?.[1];
  const data = /^PGDATA=(.+)$/m.exec(stdout)?.[1];
  if (!url || !data) throw new Error(`scripts/start-postgres.sh printed no DATABASE_URL/PGDATA:\n${stdout}`);
  return {
    url,
    async createDatabase() {
      const name = `dstack_test_${randomBytes(6).toString('hex')}`;
      await run(url, `CREATE DATABASE ${name}`);
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async emptyDatabase(database) {
      await run(
        database,
        `DO $$ DECLARE t text; BEGIN
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' LOOP
             EXECUTE format('TRUNCATE %I RESTART IDENTITY CASCADE', t);
           END LOOP;
         END $$`,
      );
    },
    async passwordDatabase() {
      const name = `dstack_pw_${randomBytes(6).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      await run(url, `CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
      await run(url, `CREATE DATABASE ${name} OWNER ${name}`);
      // The first matching line of pg_hba.conf decides: this role's goes before the trust lines.
      const hba = join(data, 'db', 'pg_hba.conf');
      await writeFile(hba, `host all ${name} 127.0.0.1/32 scram-sha-256\n${await readFile(hba, 'utf8')}`);
      await run(url, 'SELECT pg_reload_conf()');
      return { url: url.replace(/\/\/postgres@/, `//${name}@`).replace(/\/postgres$/, `/${name}`), password };
    },
    async stop() {
      await exec('bash', [join(REPO, 'scripts', 'stop-postgres.sh'), data], { timeout: 60_000 });
    },
  };
}
