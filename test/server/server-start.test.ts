/** A server start that fails says why and gives back what it had opened: the data folder, the stores. */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
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
