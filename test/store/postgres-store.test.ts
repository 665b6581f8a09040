import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeMigrations } from '../../src/server/store/migrations/index.js';
import { ConflictError, UsageError } from '../../src/core/errors.js';
import { openStore } from '../../src/server/store/open-store.js';
import { redactUrl } from '../../src/core/redact-url.js';
import { openPostgresStore } from '../../src/server/store/postgres.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { makeRun, PROJECT, rowBefore0009, seedRun, tagScope, type DatabaseBefore0009 } from './fixtures.js';
import { describeStoreConformance } from './store-conformance.js';

let server: PostgresServer;
let database: string;
beforeAll(async () => {
  server = await startPostgres();
  database = await server.createDatabase(); // this suite's own database
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

// The suite's database emptied before each test: an empty, migrated store each time, as on SQLite.
describeStoreConformance('PostgreSQL', async () => {
  await server.emptyDatabase(database);
  return openPostgresStore(database);
});

describe('openPostgresStore', () => {
  it('keeps data across close and reopen, and reopening applies no migration twice', async () => {
    const url = await server.createDatabase();
    const first = await openPostgresStore(url);
    const { run } = await seedRun(first, 'run-1', ['train']);
    await first.close();

    const second = await openPostgresStore(url);
    try {
      expect(await second.getRun('run-1')).toStrictEqual(run);
    } finally {
      await second.close();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const names = (await client.query('select name from kysely_migration order by name')).rows.map((r) => r.name);
      expect(names[0]).toBe('0001-initial');
      expect(new Set(names).size).toBe(names.length);
    } finally {
      await client.end();
    }
  });

  it('files runs stored before migration 0009 under their projects, with their tags', async () => {
    const url = await server.createDatabase();
    const db = new Kysely<DatabaseBefore0009>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    const migrator = new Migrator({ db, provider: { getMigrations: async () => storeMigrations('postgres') } });
    expect((await migrator.migrateTo('0008-user-tags')).error).toBeUndefined();
    const repo = { root: '/home/ada/gpt', remote: 'https://github.com/ada/gpt.git' };
    await db
      .insertInto('runs')
      .values([
        { ...rowBefore0009(makeRun('gpt-1', { repo })), tag: 'ada:best' },
        { ...rowBefore0009(makeRun('local-1')), tag: 'ada:data' },
      ])
      .execute();
    await db.destroy();
    const store = await openPostgresStore(url);
    try {
      expect((await store.getRunByTag(tagScope('ada', 'github.com/ada/gpt'), 'best'))?.name).toBe('gpt-1');
      expect((await store.getRunByTag(tagScope(), 'data'))?.name).toBe('local-1');
      expect((await store.listRuns({ project: PROJECT })).map((r) => r.name)).toEqual(['local-1']);
    } finally {
      await store.close();
    }
  });

  it('a database a newer dstack migrated is refused, naming it (password masked) and the migration', async () => {
    const url = await server.createDatabase();
    await (await openPostgresStore(url)).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`insert into kysely_migration (name, timestamp) values ('0099-from-a-newer-dstack', 'x')`);
      const opening = openStore(url, '/unused');
      await expect(opening).rejects.toThrow(ConflictError);
      await expect(opening).rejects.toThrow(
        `${redactUrl(url)}: the database was last used by a newer dstack: it has migration 0099-from-a-newer-dstack, which`,
      );
    } finally {
      await client.end();
    }
  });

  it('stores times past 2^32 ms and reads them back as numbers', async () => {
    const store = await openPostgresStore(await server.createDatabase());
    try {
      const { run } = await seedRun(store, 'run-1', ['train'], { submittedAt: 253_402_300_799_000 });
      const read = await store.getRun('run-1');
      expect(typeof read?.submittedAt).toBe('number');
      expect(read).toStrictEqual(run);
    } finally {
      await store.close();
    }
  });

  it('a server that cannot be reached is an error naming it, without the password', async () => {
    const url = 'postgres://dstack:secret@127.0.0.1:1/dstack';
    await expect(openPostgresStore(url)).rejects.toThrow(
      /^cannot connect to PostgreSQL at postgres:\/\/dstack:\*\*\*@127\.0\.0\.1:1\/dstack: /,
    );
    expect(redactUrl(url)).not.toContain('secret');
  });

  it("a server that cannot be reached is an error naming it, without a password given as '?password='", async () => {
    const url = 'postgres://dstack@127.0.0.1:1/dstack?sslmode=disable&password=secret';
    await expect(openPostgresStore(url)).rejects.toThrow(
      /^cannot connect to PostgreSQL at postgres:\/\/dstack@127\.0\.0\.1:1\/dstack\?sslmode=disable&password=\*\*\*: /,
    );
  });

  it('a URL node-postgres cannot read is a usage error naming the setting, without the password', async () => {
    const cases: [string, string][] = [
      ['postgres://u:pw@[::1/db', "'postgres://u:***@[::1/db'"],
      ['postgres://u:p/w#x@db:5432/dstack', "'postgres://u:***@db:5432/dstack'"], // where the password ends is unclear
    ];
    for (const [url, shown] of cases) {
      const opened = openPostgresStore(url, { setting: 'DSTACK_DATABASE_URL' });
      await expect(opened).rejects.toBeInstanceOf(UsageError);
      await expect(opened).rejects.toThrow(
        `invalid DSTACK_DATABASE_URL ${shown}: not a URL (in a user name or password, percent-encode @ : / ? # [ ] and %); ` +
          'use postgres://USER:PASSWORD@HOST:PORT/DATABASE',
      );
    }
    // An '@' and a '/' in the password: it parses, with a host 'Pw' that is no host, and is not tried.
    const ambiguous = openPostgresStore('postgres://dstack:Xy9@Pw/Secret@127.0.0.1:1/teamdb');
    await expect(ambiguous).rejects.toBeInstanceOf(UsageError);
    await expect(ambiguous).rejects.toThrow(
      "invalid --database 'postgres://dstack:***@127.0.0.1:1/teamdb': an '@' after the host (in a user name or " +
        'password, percent-encode @ : / ? # [ ] and %); use postgres://USER:PASSWORD@HOST:PORT/DATABASE',
    );
    await expect(openPostgresStore('postgres://u:pw@db/x?sslcert=/no/such.pem')).rejects.toThrow(
      "invalid --database 'postgres://u:***@db/x?sslcert=/no/such.pem': ENOENT: no such file or directory, open '/no/such.pem'; " +
        'use postgres://USER:PASSWORD@HOST:PORT/DATABASE',
    );
  });

  it('a login that needs a password none was given for says so, naming the setting, and leaves no socket open', async () => {
    const { url, password } = await server.passwordDatabase();
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    await expect(openPostgresStore(url, { setting: 'DSTACK_DATABASE_URL' })).rejects.toThrow(
      `cannot connect to PostgreSQL at ${url}: no password given, and the server asks for one: add it to ` +
        'DSTACK_DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE) or set PGPASSWORD',
    );
    expect(sockets()).toBe(before);
    const store = await openPostgresStore(url.replace('@', `:${password}@`));
    await store.close();
  });
});
