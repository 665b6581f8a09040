/**
 * A server start that fails says why and gives back what it had opened: the data folder, the
 * stores. One that starts keeps its data folder and blob folder to its user.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { startServer } from '../../src/server/server.js';

describe('startServer on a port in use', () => {
  let taken: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (taken ? taken.close(() => resolve()) : resolve())));

  it('fails naming the port and --port, and releases the data folder for the next start', async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken!.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const dataDir = await mkdtemp(join(tmpdir(), 'dstack-start-'));
    const options = { dataDir, host: '127.0.0.1', logger: silentLogger };

    await expect(startServer({ ...options, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use (--port)`);
    expect(existsSync(join(dataDir, 'server.pid'))).toBe(false);
    const next = await startServer({ ...options, port: 0 });
    await next.close();
  });
});

describe('startServer on folders the umask left open', () => {
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it('closes an existing data folder and a local --storage folder to others (0700)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dstack-start-'));
    const storage = await mkdtemp(join(tmpdir(), 'dstack-start-blobs-'));
    await chmod(dataDir, 0o755);
    await chmod(storage, 0o775);
    const server = await startServer({ dataDir, storage, host: '127.0.0.1', port: 0, logger: silentLogger });
    await server.close();
    expect([await modeOf(dataDir), await modeOf(storage)]).toEqual([0o700, 0o700]);
  });

  it('refuses a --storage folder it cannot make, naming it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dstack-start-'));
    const storage = join(dataDir, 'a-file', 'blobs');
    await writeFile(join(dataDir, 'a-file'), '');
    const options = { dataDir, host: '127.0.0.1', port: 0, logger: silentLogger };
    await expect(startServer({ ...options, storage })).rejects.toThrow(
      `invalid --storage '${storage}': ${storage} (or a folder above it) is a file; give a folder or s3://BUCKET/PREFIX`,
    );
    const next = await startServer(options);
    await next.close();
  });
});
