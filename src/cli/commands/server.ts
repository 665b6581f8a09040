/** `dstack server` (foreground), `dstack server --embedded` (the CLI's background server), `dstack server stop`. */
import { setTimeout as sleep } from 'node:timers/promises';
import { files, foregroundServer, foregroundServerMessage, readLocalServer } from '../../client/embedded.js';
import { isAlive } from '../../client/process-alive.js';
import { createLogger } from '../../logger.js';
import { runEmbeddedServer } from '../../server/local.js';
import { startServer } from '../../server/server.js';
import { JOBS_STOP, onShutdownSignals, type JobsOnShutdown } from '../../shutdown-signals.js';
import { ensureAdmin } from '../../server/admin.js';
import { join, resolve } from 'node:path';
import { makePrivateFolder } from '../../files/private-folder.js';
import {
  homeSetting,
  readLogStreamLimit,
  readVenvCacheLimits,
  runnerWorkDir,
  serverDataDir,
  type Settings,
} from '../../settings.js';
import { ConflictError, UsageError } from '../../core/errors.js';
import { plural } from '../../core/resources.js';
import { table } from '../table.js';
import { CLOSE_MS, exited, localRunnerJobs } from '../local-server.js';
import { slurmFromFlags, type BackendFlags } from './server-backends.js';
import { hideFlagValue } from '../process-title.js';
import { redactUrl } from '../../core/redact-url.js';
import { isLoopback } from '../../core/server-url.js';

export async function serverCommand(
  options: {
    embedded?: boolean;
    host: string;
    port: string;
    dataDir?: string;
    /** Undefined: on for a loopback --host only (see below). */
    localRunner?: boolean;
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
  // The password of a --database URL leaves the command line that every user can read (ps).
  hideFlagValue('--database', redactUrl);
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port '${options.port}'`);
  const timeout = Number(options.runnerTimeout);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new UsageError(`invalid --runner-timeout '${options.runnerTimeout}': expected seconds, like 60`);
  }
  const dataDir = resolve(options.dataDir ?? serverDataDir(settings.home));
  // Made here, where a failure can name the setting that chose the folder (startServer makes them too).
  const home = homeSetting(settings.home);
  await makePrivateFolder(
    dataDir,
    options.dataDir === undefined ? home : { setting: '--data-dir', value: options.dataDir },
  );
  const slurm = await slurmFromFlags(options, { dataDir, stopGraceMs: settings.stopGraceSeconds * 1000 });
  // Host jobs run as this server's user and can read its data folder (the admin token, the
  // server key): on a server others reach, any user could make themselves admin. Off unless asked.
  const loopback = isLoopback(options.host);
  // A database other servers may use too (PostgreSQL: a team's) holds their runners and jobs: a
  // server of one's own on it would run the team's jobs on this machine. Off there unless asked.
  const database = options.database ?? settings.database;
  const databaseSetting = options.database === undefined ? 'DSTACK_DATABASE_URL' : '--database';
  const localRunner = options.localRunner ?? (loopback && database === undefined);
  const maxLogStreamsPerUser = readLogStreamLimit();
  if (localRunner) await makePrivateFolder(runnerWorkDir(settings.home), home);
  const server = await startServer({
    dataDir,
    host: options.host,
    port,
    logger,
    runnerTimeoutMs: timeout * 1000,
    ...(maxLogStreamsPerUser !== undefined ? { maxLogStreamsPerUser } : {}),
    // Storage: flags, else DSTACK_STORAGE / DSTACK_DATABASE_URL, else the data dir.
    storage: options.storage ?? settings.storage,
    storageSetting: options.storage === undefined ? 'DSTACK_STORAGE' : '--storage',
    database,
    databaseSetting,
    s3: settings.s3,
    ...(localRunner
      ? {
          localRunner: {
            workRoot: runnerWorkDir(settings.home),
            stopGraceMs: settings.stopGraceSeconds * 1000,
            venvCache: readVenvCacheLimits(),
          },
        }
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
  if (options.localRunner === undefined && !localRunner) {
    const why = loopback
      ? `the database of ${databaseSetting} may be other servers' too, and their jobs would run here`
      : `--host ${options.host} is reachable from others`;
    process.stdout.write(
      `no runner on this machine (${why}): start runners with ` +
        '`dstack runner start` (dstack runners add NAME prints the command), or pass --local-runner\n',
    );
  } else if (localRunner && !loopback) {
    logger.warn(
      `the local runner's host jobs run as this server's user and can read its data folder ${dataDir}, ` +
        'the admin token included: use --local-runner only for a team whose users trust each other, or docker-only jobs',
    );
  }
  onShutdownSignals(
    async () => {
      await server.drain();
      await server.close();
    },
    logger,
    jobsOnShutdown(localRunner, slurm !== undefined),
  );
  return 'keep-alive';
}

/**
 * Only the local runner's jobs stop with the server; those on runners of other machines and in
 * Slurm keep running, and report (or are read from Slurm's queue) once the server is back.
 */
function jobsOnShutdown(localRunner: boolean, slurm: boolean): JobsOnShutdown {
  if (localRunner && !slurm) return JOBS_STOP;
  if (localRunner)
    return { waits: true, note: 'jobs on this machine stop as dstack stop stops them; those in Slurm keep running' };
  const where = slurm ? 'on runners and in Slurm' : 'on runners';
  return { note: `jobs ${where} keep running, and are tracked again at the next start`, waits: false };
}

/** While jobs stop, how often to say how many are left. */
const PROGRESS_MS = 10_000;

export async function serverStopCommand(options: { force?: boolean }, settings: Settings): Promise<number> {
  const local = await readLocalServer(settings.home);
  if (!local || !isAlive(local.info.pid)) {
    const foreground = await foregroundServer(settings.home);
    if (foreground !== undefined) {
      // Not this command's to stop: its jobs, its terminal. Saying only "not running" sent users round in circles.
      throw new ConflictError(
        `the local background server is not running; ${foregroundServerMessage(settings.home, foreground)}`,
      );
    }
    process.stdout.write('the local server is not running\n');
    return 0;
  }
  const pid = local.info.pid;
  const jobs = await localRunnerJobs(local);
  if (jobs === undefined) process.stdout.write('the local server does not answer; stopping it anyway\n');
  const count = plural(jobs?.length ?? 0, 'job');
  if (jobs?.length && !options.force) {
    const list = table(
      ['JOB', 'WORKFLOW', 'STATUS', 'RUN'],
      jobs.map((j) => [j.id, j.ref, j.status, j.runName]),
    );
    throw new ConflictError(
      `the local server is running ${count} on this machine:\n${list}\n` +
        'wait for them or stop them (dstack stop RUN), or use dstack server stop --force: it stops them as ' +
        'dstack stop does (SIGTERM, the grace period, their artifacts saved; the jobs waiting on them stop too, ' +
        'and dstack resume RUN runs them all again)',
    );
  }
  process.kill(pid, 'SIGTERM'); // a server already shutting down takes it as no more than that
  if (jobs?.length) {
    // However long their grace periods and uploads take: a stop the user asked for is never cut short.
    process.stdout.write(
      `stopping ${count}; ${jobs.length === 1 ? 'its' : 'their'} artifacts are saved first ` +
        '(Ctrl-C leaves the server finishing this in the background)\n',
    );
    let said = Date.now();
    while (isAlive(pid)) {
      await sleep(50);
      if (Date.now() - said < PROGRESS_MS) continue;
      said = Date.now();
      const left = await localRunnerJobs(local);
      if (left?.length) process.stdout.write(`still stopping ${plural(left.length, 'job')}...\n`);
    }
  } else {
    await exited(pid, CLOSE_MS);
  }
  const where = `pid ${pid}; data in ${files(settings.home).dir}`;
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    process.stdout.write(`the local server did not stop within ${CLOSE_MS / 1000} s: killed it (${where})\n`);
    return 1;
  }
  process.stdout.write(`stopped the local server (${where})\n`);
  return 0;
}
