/** `dstack server` (foreground), `dstack server --embedded` (the CLI's background server), `dstack server stop`. */
import { files, isAlive, readLocalServer } from '../../client/embedded.js';
import { createLogger } from '../../logger.js';
import { runEmbeddedServer } from '../../server/local.js';
import { startServer } from '../../server/server.js';
import { ensureAdmin } from '../../server/admin.js';
import { join, resolve } from 'node:path';
import { runnerWorkDir, serverDataDir, type Settings } from '../../settings.js';
import { UsageError } from '../../core/errors.js';
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
  const shutdown = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return 'keep-alive';
}

export async function serverStopCommand(settings: Settings): Promise<number> {
  const local = await readLocalServer(settings.home);
  if (!local || !isAlive(local.info.pid)) {
    process.stdout.write('the local server is not running\n');
    return 0;
  }
  process.kill(local.info.pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isAlive(local.info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(local.info.pid)) process.kill(local.info.pid, 'SIGKILL');
  process.stdout.write(`stopped the local server (pid ${local.info.pid}; data in ${files(settings.home).dir})\n`);
  return 0;
}
