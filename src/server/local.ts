/**
 * The embedded server process (`dstack server --embedded`, started by the CLI): listens
 * on 127.0.0.1, keeps its user token in a 0600 file for the CLI, and announces itself in
 * `server.json` once ready.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { LocalServerInfo } from '../client/embedded.js';
import { files, HOST_JOB_SETTINGS, shellSettingsOf } from '../client/embedded.js';
import { buildId } from '../cli/entry-points.js';
import { stableJson } from '../core/cache-key.js';
import type { Logger } from '../logger.js';
import { readLogStreamLimit, readVenvCacheLimits, runnerWorkDir, type Settings } from '../settings.js';
import { ensureAdmin } from './admin.js';
import { startServer, type RunningServer } from './server.js';
import { JOBS_STOP, onShutdownSignals } from '../shutdown-signals.js';
import { localFolder } from './storage/local-blob-store.js';
import { explainWrite } from '../files/refused-write.js';

export async function runEmbeddedServer(settings: Settings, logger: Logger): Promise<RunningServer> {
  const f = files(settings.home);
  const maxLogStreamsPerUser = readLogStreamLimit();
  const server = await startServer({
    dataDir: f.dir,
    host: '127.0.0.1',
    port: 0,
    logger,
    localRunner: {
      workRoot: runnerWorkDir(settings.home),
      stopGraceMs: settings.stopGraceSeconds * 1000,
      venvCache: readVenvCacheLimits(),
    },
    failUnfittable: true, // its runner is this machine, and no other will register with it
    ...(maxLogStreamsPerUser !== undefined ? { maxLogStreamsPerUser } : {}),
  });
  await ensureAdmin(server.engine.store, f.token);
  server.engine.hostEnvironment = hostEnvironmentDigest(process.env);
  const blobs = localFolder(server.engine.blobs);
  const build = buildId();
  const dockerHost = process.env['DOCKER_HOST'] || undefined;
  const info: LocalServerInfo = {
    url: server.url,
    pid: process.pid,
    ...(blobs && { blobs }),
    ...(build && { build }),
    ...(dockerHost && { dockerHost }),
    shell: shellSettingsOf(process.env),
  };
  try {
    await writeFile(`${f.info}.tmp`, JSON.stringify(info), { mode: 0o600 });
    await rename(`${f.info}.tmp`, f.info);
  } catch (e) {
    await rm(`${f.info}.tmp`, { force: true });
    throw explainWrite(e, f.dir, `writing ${f.info}`);
  }

  stopWhenOrphaned(f.info, logger);
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

/** What of `env` its host jobs' results may depend on, as a digest (Engine.hostEnvironment). */
function hostEnvironmentDigest(env: NodeJS.ProcessEnv): string {
  const settings = Object.fromEntries(HOST_JOB_SETTINGS.map((name) => [name, env[name] || null]));
  return createHash('sha256').update(stableJson(settings)).digest('hex');
}

/** How often the server checks that the CLI can still find it. */
const ORPHAN_CHECK_MS = 10_000;

/**
 * A server that no CLI can find again would run on forever: its home was deleted (`rm -rf
 * ~/.dstack` to start afresh, a test's sandbox), or `server.json` names another process. It
 * then shuts down as on SIGTERM, its jobs stopped as `dstack stop` stops them. Only a file
 * that is gone or names another pid counts: a read failing otherwise proves nothing.
 */
function stopWhenOrphaned(info: string, logger: Logger): void {
  const timer = setInterval(() => {
    readFile(info, 'utf8').then(
      (text) => {
        let pid: unknown;
        try {
          pid = (JSON.parse(text) as Partial<LocalServerInfo>).pid;
        } catch {
          return; // written by hand, or torn: not proof of another server
        }
        if (pid !== process.pid) orphaned(`${info} names another server (pid ${String(pid)})`);
      },
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') orphaned(`${info} is gone`);
      },
    );
  }, ORPHAN_CHECK_MS);
  timer.unref();
  const orphaned = (why: string) => {
    clearInterval(timer);
    logger.warn(`${why}: no CLI can find this server any more; shutting down`);
    process.kill(process.pid, 'SIGTERM');
  };
  process.once('SIGTERM', () => clearInterval(timer)); // server.json is removed as it shuts down
}
