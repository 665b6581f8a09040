/**
 * Starting a dstack server: state store, blob and log storage, the HTTP API, and (for
 * the embedded default) a runner for this machine that talks to it over HTTP like any other.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Client } from '../client/client.js';
import type { Logger } from '../logger.js';
import { detectCapacity } from '../runner/capacity.js';
import { RunnerAgent } from '../runner/agent.js';
import { ProcessExecutor } from '../runner/executors/process-executor.js';
import { runnerEnvironment } from '../runner/environment.js';
import { createApp } from './app.js';
import { issueToken } from './auth.js';
import { Engine } from './engine.js';
import { LocalBlobStore } from './storage/local-blob-store.js';
import { LogStore } from './storage/log-store.js';
import { openSqliteStore } from './store/sqlite.js';

export interface ServerOptions {
  dataDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** Run a runner for this machine inside the server process (the embedded default). */
  localRunner?: { workRoot: string; stopGraceMs: number };
}

export interface RunningServer {
  url: string;
  engine: Engine;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { dataDir, logger } = options;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const store = await openSqliteStore(join(dataDir, 'dstack.db'));
  const engine = new Engine({
    store,
    blobs: new LocalBlobStore(join(dataDir, 'artifacts')),
    logs: new LogStore(join(dataDir, 'logs')),
    logger: logger.child('server'),
  });
  const app = createApp(engine);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => resolve(s));
  });
  // Long polls and log streams hold requests open for minutes.
  (server as { requestTimeout?: number }).requestTimeout = 0;
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info(`server listening on ${url}`, { dataDir });

  let agent: RunnerAgent | undefined;
  if (options.localRunner) {
    const token = await issueToken(store, 'runner', 'local', false);
    agent = new RunnerAgent({
      client: new Client({ url, token }),
      name: 'local',
      workRoot: options.localRunner.workRoot,
      capacity: await detectCapacity(),
      executor: new ProcessExecutor(options.localRunner.workRoot),
      logger: logger.child('runner'),
      baseEnv: runnerEnvironment(),
      stopGraceMs: options.localRunner.stopGraceMs,
    });
    await mkdir(options.localRunner.workRoot, { recursive: true });
    await agent.start();
  }

  return {
    url,
    engine,
    async close() {
      await agent?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await store.close();
    },
  };
}
