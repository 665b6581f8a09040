/**
 * `dstack server`'s own runner runs host jobs as the server's user, who can read its data
 * folder (the admin token): on a --host others reach it is off unless asked for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { openPostgresStore } from '../../src/server/store/postgres.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { BIN, waitUntil } from './harness.js';
import { startForegroundServer, type ForegroundServer } from './remote.js';

async function withServer(args: string[], check: (server: ForegroundServer, runners: string[]) => Promise<void>) {
  const server = await startForegroundServer(args, { DSTACK_LOG_LEVEL: 'warn' });
  try {
    const runners = await new Client({ url: server.url, token: server.token }).runners();
    await check(
      server,
      runners.map((r) => r.name),
    );
  } finally {
    await server.stop();
  }
}

/** The lines after the admin token's, once `expected` of them are there. */
async function linesAfterToken(server: ForegroundServer, expected: number): Promise<string[]> {
  const after = () => server.output().split('\n').slice(2, -1);
  return waitUntil(
    async () => after().length >= expected && after(),
    10_000,
    async () => server.output(),
  );
}

describe("dstack server's local runner", () => {
  it('is off on a --host others reach, and the start says so and how to run jobs', async () => {
    await withServer(['--host', '0.0.0.0'], async (server, runners) => {
      expect(runners).toEqual([]);
      expect(await linesAfterToken(server, 1)).toEqual([
        'no runner on this machine (--host 0.0.0.0 is reachable from others): start runners with ' +
          '`dstack runner start` (dstack runners add NAME prints the command), or pass --local-runner',
      ]);
    });
  });

  it('runs there with --local-runner, with a warning that its jobs can read the data folder', async () => {
    await withServer(['--host', '0.0.0.0', '--local-runner'], async (server, runners) => {
      expect(runners).toEqual(['local']);
      const dataDir = /--data-dir\0([^\0]+)/.exec(await readFile(`/proc/${server.pid}/cmdline`, 'latin1'))?.[1];
      const [warning] = await waitUntil(async () => server.output().match(/^.* WARN .*$/m) ?? undefined);
      expect(warning.replace(/^\S+ /, '')).toBe(
        `WARN [dstack] the local runner's host jobs run as this server's user and can read its data folder ` +
          `${dataDir}, the admin token included: use --local-runner only for a team whose users trust each other, ` +
          'or docker-only jobs',
      );
    });
  });

  it('is on by default on 127.0.0.1, without a word, and off with --no-local-runner', async () => {
    await withServer([], async (server, runners) => {
      expect(runners).toEqual(['local']);
      expect(server.output()).not.toMatch(/no runner on this machine|WARN/);
    });
    await withServer(['--host', '0.0.0.0', '--no-local-runner'], async (server, runners) => {
      expect(runners).toEqual([]);
      expect(server.output()).not.toMatch(/no runner on this machine|WARN/);
    });
  });
});

describe("dstack server's local runner on a database other servers may share (a team's PostgreSQL)", () => {
  let postgres: PostgresServer | undefined;
  afterAll(async () => {
    await postgres?.stop();
  });

  it('is off by default, even on 127.0.0.1, and the start says why and how to run jobs', async () => {
    postgres ??= await startPostgres();
    const database = await postgres.createDatabase();
    const server = await startForegroundServer([], { DSTACK_DATABASE_URL: database, DSTACK_LOG_LEVEL: 'warn' });
    try {
      expect((await new Client({ url: server.url, token: server.token }).runners()).map((r) => r.name)).toEqual([]);
      expect(await linesAfterToken(server, 1)).toEqual([
        "no runner on this machine (the database of DSTACK_DATABASE_URL may be other servers' too, and their jobs " +
          'would run here): start runners with `dstack runner start` (dstack runners add NAME prints the command), ' +
          'or pass --local-runner',
      ]);
    } finally {
      await server.stop();
    }
  });

  it("refuses --local-runner while the database's runner 'local' is another machine's server's, live", async () => {
    postgres ??= await startPostgres();
    const database = await postgres.createDatabase();
    const store = await openPostgresStore(database);
    const now = Date.now();
    try {
      await store.upsertRunner({
        name: 'local',
        host: 'team-box',
        total: { cpu: 8, memory: 2 ** 34, gpus: [] },
        status: 'ACTIVE',
        updatedAt: now,
        registeredAt: now,
      });
    } finally {
      await store.close();
    }
    const home = await mkdtemp(join(tmpdir(), 'dstack-shared-db-'));
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(
          BIN,
          ['server', '--port', '0', '--local-runner', '--database', database],
          { env: { ...process.env, DSTACK_HOME: home, NO_COLOR: '1' }, timeout: 60_000 },
          (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
        ),
      );
      expect(r.stderr).toMatch(
        /^error: the runner 'local' on this database is the built-in runner of a server on team-box \(heard \d+s ago\): /,
      );
      expect(r.stderr).toContain(
        "this server's would take its name and its jobs; start this one without --local-runner, or give it a " +
          'database of its own (--database)\n',
      );
      expect(r.code).toBe(1);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
