/** A real API app over a real engine: a SQLite store and local blob and log stores in a fresh temp folder. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { createApp } from '../../src/server/app.js';
import { ServerKey } from '../../src/server/crypto.js';
import { Engine } from '../../src/server/engine.js';
import { LocalBlobStore } from '../../src/server/storage/local-blob-store.js';
import { LogStore } from '../../src/server/storage/log-store.js';
import { openSqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';

export type TestApp = ReturnType<typeof createApp>;

/** `open` opens the store from a database path in the app's folder (default: SQLite there). */
export async function testApp(name: string, open: (path: string) => Promise<Store> = openSqliteStore) {
  const dir = await mkdtemp(join(tmpdir(), `dstack-${name}-`));
  const store = await open(join(dir, 'dstack.db'));
  const engine = new Engine({
    store,
    blobs: new LocalBlobStore(join(dir, 'blobs')),
    logs: new LogStore(join(dir, 'logs')),
    logger: silentLogger,
  });
  return { dir, store, engine, app: createApp(engine, ServerKey.forDataDir(dir)) };
}

/** A JSON request to `app` as the holder of `token`: the answer's status and parsed body. */
export async function callApi(app: TestApp, token: string, method: string, path: string, body?: unknown) {
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
