/**
 * Starting a dstack server: state store, blob and log storage, the HTTP API, and (for
 * the embedded default) a runner for this machine that calls the same API in-process.
 */
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunnerClient } from '../client/runner-client.js';
import type { Logger } from '../logger.js';
import { abilityProbe } from '../runner/abilities.js';
import { detectCapacity } from '../runner/capacity.js';
import type { VenvCacheLimits } from '../settings.js';
import { RunnerAgent } from '../runner/agent.js';
import { ProcessExecutor } from '../runner/executors/process-executor.js';
import { makePrivateFolder } from '../files/private-folder.js';
import { explainWrite } from '../files/refused-write.js';
import { runnerEnvironment } from '../runner/environment.js';
import { createApp } from './app.js';
import { claimDataDir } from './data-dir-claim.js';
import { SlurmBackend } from './backends/slurm/backend.js';
import { batchServerUrl, type SlurmBackendOptions } from './backends/slurm/options.js';
import { ServerKey } from './crypto.js';
import { issueToken } from './auth.js';
import { Engine } from './engine.js';
import { inProcessFetch } from './in-process-fetch.js';
import { listen } from './listen.js';
import { startMonitor } from './monitor.js';
import { localFolder, LocalBlobStore } from './storage/local-blob-store.js';
import { describeStorage, openBlobStore } from './storage/open-blob-store.js';
import type { S3Settings } from './storage/s3-client.js';
import { LogArchive } from './storage/log-archive.js';
import { LogStore } from './storage/log-store.js';
import { LOCAL_RUNNER } from '../core/api.js';
import { describeDatabase, openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { ConflictError } from '../core/errors.js';

/**
 * The reason of the jobs its runner was running when the server shut down: they stop as
 * `dstack stop` stops them (RunnerAgent.drain), rather than die with the process.
 */
export const SHUTDOWN_REASON = 'stopped: the server shut down';

export interface ServerOptions {
  dataDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** Run a runner for this machine inside the server process (the embedded default). */
  localRunner?: { workRoot: string; stopGraceMs: number; venvCache?: VenvCacheLimits };
  /** Storage: where blobs go (a folder or s3://bucket/prefix; default <dataDir>/artifacts) and the state database (postgres://…; default SQLite). */
  storage?: string;
  database?: string;
  /** How the user gave `storage`, for messages about it: `--storage` (the default) or `DSTACK_STORAGE`. */
  storageSetting?: string;
  /** How the user gave `database`: `--database` (the default) or `DSTACK_DATABASE_URL`. */
  databaseSetting?: string;
  s3?: S3Settings;
  /** A runner silent this long is lost and its jobs fail, ms (default 60 s). */
  runnerTimeoutMs?: number;
  /** Run jobs on a Slurm cluster too (`dstack server --backend slurm`). */
  slurm?: SlurmBackendOptions;
  /** Fail a job no runner could ever fit, rather than wait for one (MonitorOptions.failUnfittable). */
  failUnfittable?: boolean;
  /** Log streams one user may follow at once (DSTACK_MAX_LOG_STREAMS; default 64, api/stream-slots.ts). */
  maxLogStreamsPerUser?: number;
}

export interface RunningServer {
  url: string;
  engine: Engine;
  /**
   * Its own runner (`localRunner`) claims nothing more and stops its jobs, their artifacts
   * saved (RunnerAgent.drain); resolves once they have stopped, with how many there were.
   */
  drain(): Promise<number>;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { dataDir, logger } = options;
  // The database, logs, blobs, token and key: an existing folder left open by the umask is closed.
  let release: () => Promise<void>;
  try {
    await makePrivateFolder(dataDir);
    release = await claimDataDir(dataDir);
  } catch (e) {
    throw explainWrite(e, dataDir, 'claiming the data folder');
  }
  let store;
  try {
    store = await openStore(options.database, dataDir, options.databaseSetting);
  } catch (e) {
    await release();
    throw e;
  }
  const runnerTimeoutMs = options.runnerTimeoutMs ?? 60_000;
  let blobs;
  try {
    if (options.localRunner) await refuseAnotherHostsLocalRunner(store, runnerTimeoutMs, options.databaseSetting);
    blobs = await openBlobStore(
      options.storage,
      dataDir,
      options.s3 ?? {},
      options.storageSetting,
      logger.child('storage'),
    );
  } catch (e) {
    await store.close();
    await release();
    throw e;
  }
  // Storage of the user's choosing (S3, or a folder off the data folder) keeps finished jobs' logs too.
  const logArchive = options.storage ? new LogArchive(store, blobs, logger.child('logs')) : undefined;
  const logs = new LogStore(join(dataDir, 'logs'), logArchive);
  const engine = new Engine({ store, blobs, logs, logger: logger.child('server') });
  engine.logArchive = logArchive;
  logArchive?.start(logs, engine.events);
  engine.heartbeatMs = Math.max(100, Math.min(10_000, Math.floor(runnerTimeoutMs / 3)));
  engine.runnerTimeoutMs = runnerTimeoutMs;
  engine.failUnfittable = options.failUnfittable ?? false;
  const stopMonitor = startMonitor(engine, { runnerTimeoutMs, failUnfittable: engine.failUnfittable });
  // What the start opened; closed as well when the start fails from here on.
  const closeStorage = async () => {
    await engine.close();
    await logArchive?.close();
    await store.close();
    await blobs.close?.();
    await release();
  };
  const app = createApp(engine, ServerKey.forDataDir(dataDir), {
    ...(options.maxLogStreamsPerUser !== undefined ? { maxLogStreamsPerUser: options.maxLogStreamsPerUser } : {}),
  });
  let server;
  try {
    server = await listen(app.fetch, options.host, options.port);
  } catch (e) {
    stopMonitor();
    await closeStorage();
    throw e;
  }
  // Long polls and log streams hold requests open for minutes.
  (server as { requestTimeout?: number }).requestTimeout = 0;
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;

  let agent: RunnerAgent | undefined;
  if (options.localRunner) {
    engine.runsLocalRunner = true;
    await store.deleteTokens('runner', LOCAL_RUNNER); // one live token for the local runner, new at every start
    // The local runner of an earlier server process on this data is gone with it: its name is free
    // now, not once a runner timeout has passed (a second process's register waits that long).
    if ((await store.getRunner(LOCAL_RUNNER))?.status === 'ACTIVE')
      await store.setRunnerStatus(LOCAL_RUNNER, 'OFFLINE');
    const token = await issueToken(store, 'runner', LOCAL_RUNNER, false);
    agent = new RunnerAgent({
      // In-process: the runner's requests skip the socket, not the API (auth, validation, routes).
      // Its downloads copy blobs straight from a store on this machine's disk, and its
      // artifact files go straight into it.
      client: new RunnerClient({
        url,
        token,
        fetch: inProcessFetch(app),
        localBlobs: localFolder(blobs),
        localStore: blobs instanceof LocalBlobStore ? blobs : undefined,
      }),
      name: LOCAL_RUNNER,
      workRoot: options.localRunner.workRoot,
      capacity: await detectCapacity({}, { warn: (message) => logger.warn(message) }),
      executor: new ProcessExecutor(options.localRunner.workRoot, {
        spawner: true,
        stopGraceMs: options.localRunner.stopGraceMs,
      }),
      logger: logger.child('runner'),
      baseEnv: runnerEnvironment(),
      abilities: abilityProbe(runnerEnvironment()),
      stopGraceMs: options.localRunner.stopGraceMs,
      venvCache: options.localRunner.venvCache,
      spoolLogs: false, // its log sends are calls into this process's log store
      exclusiveWorkRoot: false, // the server's start decides who uses its home
    });
    await makePrivateFolder(options.localRunner.workRoot);
    await agent.start();
  }

  // A Slurm backend (docs/slurm.md): a runner inside the server that hands its jobs to sbatch.
  let slurm: SlurmBackend | undefined;
  const close = async () => {
    await slurm?.close();
    stopMonitor();
    await agent?.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await closeStorage();
  };
  if (options.slurm) {
    const { url: serverUrl, note } = batchServerUrl(options.slurm.serverUrl, { host: options.host, port });
    if (note) logger.info(note);
    try {
      slurm = await SlurmBackend.start(
        engine,
        { ...options.slurm, serverUrl },
        join(dataDir, 'slurm'),
        logger.child('slurm'),
      );
    } catch (e) {
      await close();
      throw e;
    }
  }

  const drain = async () => (agent ? agent.drain(SHUTDOWN_REASON) : 0);
  // Said once all of it runs: a start that fails (a Slurm partition without nodes) never listened for users.
  logger.info(`server listening on ${url}`, {
    dataDir,
    storage: describeStorage(options.storage, dataDir),
    database: describeDatabase(options.database, dataDir),
  });

  return {
    url,
    engine,
    drain,
    close,
  };
}

/**
 * On a database another server uses too (a team's PostgreSQL), the built-in runner `local` may be
 * that server's, live on another machine: taking its name would revoke its token and run its
 * jobs here. Refused while it is heard from; a server of this machine restarting takes it back.
 */
async function refuseAnotherHostsLocalRunner(
  store: Store,
  runnerTimeoutMs: number,
  databaseSetting = '--database',
): Promise<void> {
  const runner = await store.getRunner(LOCAL_RUNNER);
  if (!runner || runner.status !== 'ACTIVE' || runner.host === hostname()) return;
  const silentMs = Date.now() - runner.updatedAt;
  if (silentMs > runnerTimeoutMs) return;
  throw new ConflictError(
    `the runner '${LOCAL_RUNNER}' on this database is the built-in runner of a server on ${runner.host} ` +
      `(heard ${Math.max(0, Math.round(silentMs / 1000))}s ago): this server's would take its name and its jobs; ` +
      `start this one without --local-runner, or give it a database of its own (${databaseSetting})`,
  );
}
