/**
 * The `local` runner is the server's own only while the server runs it: a server started with a
 * local runner refuses to delete it (its next start would make it again), while one restarted
 * on the same data with --no-local-runner deletes the record the earlier start left (which
 * stayed, OFFLINE, for ever).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { silentLogger } from '../../src/logger.js';
import { issueToken } from '../../src/server/auth.js';
import { startServer, type RunningServer } from '../../src/server/server.js';

describe('deleting the local runner', () => {
  let dataDir: string;
  let server: RunningServer | undefined;
  const start = async (localRunner: boolean) => {
    server = await startServer({
      dataDir,
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      ...(localRunner ? { localRunner: { workRoot: join(dataDir, 'work'), stopGraceMs: 1000 } } : {}),
    });
    return new Client({ url: server.url, token: await issueToken(server.engine.store, 'user', 'admin', true) });
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dstack-local-delete-'));
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is refused while the server runs it, and done once it is started with --no-local-runner', async () => {
    const withLocal = await start(true);
    expect((await withLocal.runners()).map((r) => [r.name, r.status])).toEqual([['local', 'ACTIVE']]);
    await expect(withLocal.deleteRunner('local')).rejects.toThrow(
      "runner 'local' is this server's own (this machine's): start the server with --no-local-runner to run nothing here",
    );
    expect((await withLocal.runners()).map((r) => r.name)).toEqual(['local']);
    await server!.close();
    server = undefined;

    const without = await start(false);
    // Listed still (OFFLINE once the runner timeout has passed), and now nobody's to make again.
    expect((await without.runners()).map((r) => r.name)).toEqual(['local']);
    await without.deleteRunner('local');
    expect(await without.runners()).toEqual([]);
    await expect(without.deleteRunner('local')).rejects.toThrow("no runner 'local'");
  });
});
