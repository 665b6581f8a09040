/** Lost runners, on the real engine over a real SQLite store (and a real PostgreSQL, for its outage). */
import type SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_MAX_DELAY_MS } from '../../src/core/api.js';
import { issueToken } from '../../src/server/auth.js';
import { checkRunners, startMonitor } from '../../src/server/monitor.js';
import { KyselyStore } from '../../src/server/store/kysely-store.js';
import { openPostgresStore } from '../../src/server/store/postgres.js';
import type { Database } from '../../src/server/store/schema.js';
import { openSqliteDatabase, SqliteStoreDialect } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { callApi } from './app-fixture.js';
import { addRunner, engineWith } from './engine-fixture.js';

const JOB = 'aaaaaaaaaaaa';

async function runningOn(lastHeard: number, open?: (path: string) => Promise<Store>) {
  const { engine, app } = await engineWith([[JOB, 'RUNNING', []]], {}, open);
  await addRunner(engine, 'r1', undefined, lastHeard);
  await engine.store.updateJob(JOB, 'RUNNING', { runner: 'r1' });
  return { engine, app };
}

/** Wait until `check` holds, for at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await check()) return true;
  }
  return check();
}

describe('checkRunners', () => {
  it("fails a silent runner's jobs as 'runner lost'", async () => {
    const now = Date.now();
    const { engine } = await runningOn(now - 10_000);
    await checkRunners(engine, 2_000, now);
    expect((await engine.store.getRunner('r1'))!.status).toBe('LOST');
    expect(await engine.store.getJob(JOB)).toMatchObject({ status: 'FAILED', reason: 'runner lost' });
  });

  it('counts silence from its own start: runners could not reach a server that was down', async () => {
    const now = Date.now();
    const { engine } = await runningOn(now - 60_000);
    await checkRunners(engine, 2_000, now, now - 1_000);
    expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
    // Once a retrying runner has had its longest wait and the timeout, it is lost.
    await checkRunners(engine, 2_000, now + RETRY_MAX_DELAY_MS + 2_001, now);
    expect((await engine.store.getRunner('r1'))!.status).toBe('LOST');
  });

  it("takes a pause of the server itself (a laptop asleep) for no runner's silence", { timeout: 20_000 }, async () => {
    const { engine } = await runningOn(Date.now());
    const stop = startMonitor(engine, { runnerTimeoutMs: 1_000, intervalMs: 100 });
    try {
      // Past the grace a server gives runners after its start, the runner heartbeats...
      for (const until = Date.now() + RETRY_MAX_DELAY_MS + 500; Date.now() < until;) {
        await engine.store.heartbeat('r1', Date.now());
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
      // ...until the whole process stands still, its timers and its runner's heartbeats too.
      const pausedUntil = Date.now() + 1_500;
      while (Date.now() < pausedUntil);
      await new Promise((r) => setTimeout(r, 300)); // a few checks after it wakes
      expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
      expect((await engine.store.getJob(JOB))!.status).toBe('RUNNING');
    } finally {
      stop();
    }
  });

  it('keeps a runner whose heartbeats arrive while the store cannot write them (a full disk)', async () => {
    let sqlite: SqliteDatabase.Database | undefined;
    // A real SQLite store whose connection the test holds: `query_only` on it fails every
    // write, as a full disk does, while reads (the runner's token) are still answered.
    const { engine, app } = await runningOn(Date.now() - 60_000, async (path) => {
      sqlite = openSqliteDatabase(path);
      const db = new Kysely<Database>({ dialect: new SqliteStoreDialect(sqlite) });
      const store = new KyselyStore(db, { dialect: 'sqlite' });
      await store.migrate();
      return store;
    });
    const token = await issueToken(engine.store, 'runner', 'r1', false);
    sqlite!.pragma('query_only = ON');
    const heartbeat = { name: 'r1', jobIds: [JOB], waitMs: 0 };
    expect((await callApi(app, token, 'POST', '/api/runner/heartbeat', heartbeat)).status).toBe(500);
    await checkRunners(engine, 2_000); // nothing to write: the runner was heard
    sqlite!.pragma('query_only = OFF'); // space again, before the runner's next heartbeat
    await checkRunners(engine, 2_000);
    expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
    expect((await engine.store.getJob(JOB))!.status).toBe('RUNNING');
  });
});

describe('startMonitor at a resume', () => {
  /** A job asking for 64 CPUs, one 4-CPU runner, and periodic checks an hour apart: only the check of new work can act. */
  async function submittedUnfittable(failUnfittable: boolean) {
    const { engine } = await engineWith([[JOB, 'SUBMITTED', [], 64]]);
    await addRunner(engine, 'local');
    const stop = startMonitor(engine, { runnerTimeoutMs: 3_600_000, intervalMs: 3_600_000, failUnfittable });
    engine.newWork(); // as a resume says it (a submission checks its own jobs before it answers)
    return { engine, stop };
  }

  it('fails a job this machine can never fit (the embedded server), not at its next periodic check', async () => {
    const { engine, stop } = await submittedUnfittable(true);
    try {
      const failed = async () => (await engine.store.getJob(JOB))!.status === 'FAILED';
      expect(await until(failed, 5_000)).toBe(true);
      expect(await engine.store.getJob(JOB)).toMatchObject({ reason: 'this machine does not have 64 CPUs' });
    } finally {
      stop();
    }
  });

  it('gives a job no runner can fit its reason (a team server), not at its next periodic check', async () => {
    const { engine, stop } = await submittedUnfittable(false);
    try {
      const explained = async () => (await engine.store.getJob(JOB))!.reason === 'no runner has 64 CPUs';
      expect(await until(explained, 5_000)).toBe(true);
      expect((await engine.store.getJob(JOB))!.status).toBe('SUBMITTED');
    } finally {
      stop();
    }
  });
});

describe('startMonitor over PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** Run `sql` on the maintenance database, not the one the store uses. */
  async function admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  it(
    'counts silence from the end of a database outage: runners could not be heard during it',
    { timeout: 30_000 },
    async () => {
      const url = await server.createDatabase();
      const name = new URL(url).pathname.slice(1);
      const { engine } = await runningOn(Date.now(), () => openPostgresStore(url));
      const stop = startMonitor(engine, { runnerTimeoutMs: 1_000, intervalMs: 100 });
      try {
        // Past the grace a server gives runners after its start, the runner heartbeats...
        for (const end = Date.now() + RETRY_MAX_DELAY_MS + 500; Date.now() < end;) {
          await engine.store.heartbeat('r1', Date.now());
          await new Promise((r) => setTimeout(r, 100));
        }
        // ...until the database refuses connections, longer than the runner timeout.
        await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
        await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
        // A pooled connection whose termination is not read yet fails its query with that first.
        const refused = () =>
          engine.store.listRunners().then(
            () => false,
            (e: Error) => /not currently accepting connections/.test(e.message),
          );
        expect(await until(refused, 2_000)).toBe(true);
        await new Promise((r) => setTimeout(r, 2_000));
        await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
        await new Promise((r) => setTimeout(r, 500)); // checks once it is back, before the runner's retry
        expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
        expect((await engine.store.getJob(JOB))!.status).toBe('RUNNING');
        // A runner still silent once it could have retried is lost, as after a start.
        const lost = () => engine.store.getRunner('r1').then((r) => r!.status === 'LOST');
        expect(await until(lost, RETRY_MAX_DELAY_MS + 3_000)).toBe(true);
      } finally {
        stop();
        await engine.store.close();
      }
    },
  );
});
