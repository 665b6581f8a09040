/**
 * The embedded server process (`dstack server --embedded`, started by the CLI): listens
 * on 127.0.0.1, keeps its user token in a 0600 file for the CLI, and announces itself in
 * `server.json` once ready.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import type { LocalServerInfo } from '../client/embedded.js';
import { files } from '../client/embedded.js';
import { buildId } from '../cli/entry-points.js';
import type { Logger } from '../logger.js';
import { runnerWorkDir, type Settings } from '../settings.js';
import { ensureAdmin } from './admin.js';
import { startServer, type RunningServer } from './server.js';
import { JOBS_STOP, onShutdownSignals } from '../shutdown-signals.js';
import { localFolder } from './storage/local-blob-store.js';

export async function runEmbeddedServer(settings: Settings, logger: Logger): Promise<RunningServer> {
  const f = files(settings.home);
  const server = await startServer({
    dataDir: f.dir,
    host: '127.0.0.1',
    port: 0,
    logger,
    localRunner: { workRoot: runnerWorkDir(settings.home), stopGraceMs: settings.stopGraceSeconds * 1000 },
    failUnfittable: true, // its runner is this machine, and no other will register with it
  });
  await ensureAdmin(server.engine.store, f.token);
  const blobs = localFolder(server.engine.blobs);
  const build = buildId();
  const info: LocalServerInfo = { url: server.url, pid: process.pid, ...(blobs && { blobs }), ...(build && { build }) };
  await writeFile(`${f.info}.tmp`, JSON.stringify(info), { mode: 0o600 });
  await rename(`${f.info}.tmp`, f.info);

  // The CLI keeps finding this server while its jobs stop (`dstack status` shows them STOPPING).
  onShutdownSignals(
    async () => {
      await server.drain();
      await rm(f.info, { force: true });
      await server.close();
    },
    logger,
    JOBS_STOP,
  );
  return server;
}
