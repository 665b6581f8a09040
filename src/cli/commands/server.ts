/** `dstack server` (foreground), `dstack server --embedded` (the CLI's background server), `dstack server stop`. */
import { files, isAlive, readLocalServer } from '../../client/embedded.js';
import { createLogger } from '../../logger.js';
import { runEmbeddedServer } from '../../server/local.js';
import { startServer } from '../../server/server.js';
import { issueToken } from '../../server/auth.js';
import { runnerWorkDir, serverDataDir, type Settings } from '../../settings.js';
import { UsageError } from '../../core/errors.js';

export async function serverCommand(
  options: { embedded?: boolean; host: string; port: string; dataDir?: string; localRunner: boolean },
  settings: Settings,
): Promise<number | 'keep-alive'> {
  const logger = createLogger('dstack', settings.logLevel);
  if (options.embedded) {
    await runEmbeddedServer(settings, logger);
    return 'keep-alive';
  }
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port '${options.port}'`);
  const dataDir = options.dataDir ?? serverDataDir(settings.home);
  const server = await startServer({
    dataDir,
    host: options.host,
    port,
    logger,
    ...(options.localRunner
      ? { localRunner: { workRoot: runnerWorkDir(settings.home), stopGraceMs: settings.stopGraceSeconds * 1000 } }
      : {}),
  });
  const token = await issueToken(server.engine.store, 'user', 'admin', true);
  process.stdout.write(`dstack server at ${server.url}\nadmin token (shown once): ${token}\n`);
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
