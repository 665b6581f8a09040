/** `dstack server` (foreground), `dstack server --embedded` (the CLI's background server), `dstack server stop`. */
import { Client } from '../../client/client.js';
import { files, isAlive, readLocalServer, type LocalServerInfo } from '../../client/embedded.js';
import type { JobRecord } from '../../core/records.js';
import { createLogger } from '../../logger.js';
import { runEmbeddedServer } from '../../server/local.js';
import { LOCAL_RUNNER, startServer } from '../../server/server.js';
import { onShutdownSignals } from '../../shutdown-signals.js';
import { ensureAdmin } from '../../server/admin.js';
import { join, resolve } from 'node:path';
import { runnerWorkDir, serverDataDir, type Settings } from '../../settings.js';
import { ConflictError, UsageError } from '../../core/errors.js';
import { slurmFromFlags, type BackendFlags } from './server-backends.js';

export async function serverCommand(
  options: {
    embedded?: boolean;
    host: string;
    port: string;
    dataDir?: string;
    localRunner: boolean;
    runnerTimeout: string;
    storage?: string;
    database?: string;
  } & BackendFlags,
  settings: Settings,
): Promise<number | 'keep-alive'> {
  const logger = createLogger('dstack', settings.logLevel);
  if (options.embedded) {
    await runEmbeddedServer(settings, logger);
    return 'keep-alive';
  }
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port '${options.port}'`);
  const timeout = Number(options.runnerTimeout);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new UsageError(`invalid --runner-timeout '${options.runnerTimeout}': expected seconds, like 60`);
  }
  const dataDir = resolve(options.dataDir ?? serverDataDir(settings.home));
  const slurm = await slurmFromFlags(options, { dataDir, stopGraceMs: settings.stopGraceSeconds * 1000 });
  const server = await startServer({
    dataDir,
    host: options.host,
    port,
    logger,
    runnerTimeoutMs: timeout * 1000,
    // Storage: flags, else DSTACK_STORAGE / DSTACK_DATABASE_URL, else the data dir.
    storage: options.storage ?? settings.storage,
    database: options.database ?? settings.database,
    s3: settings.s3,
    ...(options.localRunner
      ? { localRunner: { workRoot: runnerWorkDir(settings.home), stopGraceMs: settings.stopGraceSeconds * 1000 } }
      : {}),
    ...(slurm ? { slurm } : {}),
  });
  const tokenFile = join(dataDir, 'token');
  const token = await ensureAdmin(server.engine.store, tokenFile);
  process.stdout.write(`dstack server at ${server.url}\n`);
  process.stdout.write(
    token
      ? `admin token (shown once; also in ${tokenFile}, mode 0600): ${token}\n`
      : `admin token: in ${tokenFile} (written at the first start)\n`,
  );
  onShutdownSignals(async () => {
    await server.drain();
    await server.close();
  }, logger);
  return 'keep-alive';
}

/** Time for a server with no jobs of its own running to close. */
const CLOSE_MS = 15_000;
/** Beyond the jobs' grace period, time for their artifacts to be saved. */
const SAVE_MS = 5 * 60_000;

export async function serverStopCommand(options: { force?: boolean }, settings: Settings): Promise<number> {
  const local = await readLocalServer(settings.home);
  if (!local || !isAlive(local.info.pid)) {
    process.stdout.write('the local server is not running\n');
    return 0;
  }
  const jobs = await localRunnerJobs(local);
  const count = `${jobs.length} job${jobs.length === 1 ? '' : 's'}`;
  if (jobs.length > 0 && !options.force) {
    const list = jobs.map((j) => `  ${j.id}  ${j.workflow}  ${j.status}  (run ${j.runName})`).join('\n');
    throw new ConflictError(
      `the local server is running ${count} on this machine:\n${list}\n` +
        'stop them first (dstack stop RUN), or use dstack server stop --force: it stops them the same way ' +
        '(SIGTERM, the grace period, their artifacts saved; dstack resume runs them again)',
    );
  }
  if (jobs.length > 0) process.stdout.write(`stopping ${count}; their artifacts are being saved...\n`);
  process.kill(local.info.pid, 'SIGTERM');
  const waitMs = jobs.length > 0 ? CLOSE_MS + settings.stopGraceSeconds * 1000 + SAVE_MS : CLOSE_MS;
  const deadline = Date.now() + waitMs;
  while (isAlive(local.info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const where = `pid ${local.info.pid}; data in ${files(settings.home).dir}`;
  if (isAlive(local.info.pid)) {
    process.kill(local.info.pid, 'SIGKILL');
    process.stdout.write(`the local server did not stop within ${Math.round(waitMs / 1000)} s: killed it (${where})\n`);
    return 1;
  }
  process.stdout.write(`stopped the local server (${where})\n`);
  return 0;
}

/** The unfinished jobs of the runner inside the local server; none when it does not answer. */
async function localRunnerJobs(local: { info: LocalServerInfo; token: string }): Promise<JobRecord[]> {
  const client = new Client({ url: local.info.url, token: local.token });
  const runners = await client.runners().catch(() => []);
  return runners.find((r) => r.name === LOCAL_RUNNER)?.jobs ?? [];
}
