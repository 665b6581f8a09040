/**
 * `dstack server`'s own runner runs host jobs as the server's user, who can read its data
 * folder (the admin token): on a --host others reach it is off unless asked for.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { waitUntil } from './harness.js';
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
