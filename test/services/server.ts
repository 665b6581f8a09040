/** An in-process dstack server for tests, with an admin client; its stores are open for counters. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../src/client/client.js';
import { createLogger } from '../../src/logger.js';
import { issueToken } from '../../src/server/auth.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.js';

export interface TestServer {
  server: RunningServer;
  client: Client;
  token: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: Partial<
    Pick<ServerOptions, 'storage' | 'database' | 's3' | 'localRunner' | 'runnerTimeoutMs' | 'maxLogStreamsPerUser'>
  > = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dstack-server-'));
  const server = await startServer({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('test', 'error'),
    ...options,
  });
  const token = await issueToken(server.engine.store, 'user', 'admin', true);
  return {
    server,
    token,
    dataDir,
    client: new Client({ url: server.url, token }),
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
