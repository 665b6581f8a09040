/** `dstack runner start`: make this machine a runner of a team server. */
import { availableParallelism, totalmem, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { RunnerClient } from '../../client/runner-client.js';
import { RUNNER_OUTAGE_MS, runnerRetry } from '../../client/retry.js';
import { waitForServer } from '../../client/server-up.js';
import { UsageError } from '../../core/errors.js';
import { parseSize, plural } from '../../core/resources.js';
import { isLoopback } from '../../core/server-url.js';
import { createLogger } from '../../logger.js';
import { RUNNER_SHUTDOWN_REASON, RunnerAgent } from '../../runner/agent.js';
import { abilityProbe } from '../../runner/abilities.js';
import { overOfferWarnings } from './runner-offer.js';
import { detectCapacity, detectGpus } from '../../runner/capacity.js';
import type { GpuInfo } from '../../core/resources.js';
import { runnerEnvironment } from '../../runner/environment.js';
import { ProcessExecutor } from '../../runner/executors/process-executor.js';
import { makePrivateFolder } from '../../files/private-folder.js';
import { explainWrite } from '../../files/refused-write.js';
import { homeSetting, readVenvCacheLimits, runnerWorkDir, type Settings } from '../../settings.js';
import { runnerToken, serverUrl } from '../credentials.js';
import { JOBS_STOP, onShutdownSignals } from '../../shutdown-signals.js';

export interface RunnerStartOptions {
  server?: string;
  token?: string;
  name?: string;
  workDir?: string;
  cpu?: string;
  memory?: string;
  gpus?: string;
  venvCacheDays?: string;
  venvCacheSize?: string;
  /** False: --no-host-jobs. */
  hostJobs?: boolean;
}

/**
 * The start's warning for a runner that runs host jobs (no --no-host-jobs) of a server that others
 * can reach (not on a loopback address): those jobs of every user run as this process's Unix user,
 * which can read its environment (DSTACK_TOKEN) and ptrace it, so only containers keep users apart.
 * Undefined where nothing is to be said.
 */
export function hostJobsWarning(
  server: string,
  hostJobs: boolean,
  user: { uid: number; username: string } = currentUser(),
): string | undefined {
  if (!hostJobs) return undefined;
  let host: string;
  try {
    host = new URL(server).hostname;
  } catch {
    return undefined; // serverUrl has refused it already
  }
  if (isLoopback(host)) return undefined;
  return (
    `host jobs (those without an 'image:') of every user of this server run here as uid ${user.uid} ` +
    `(${user.username}), so each can read the others' files and this runner's token: for users who do not ` +
    `trust each other, start runners with --no-host-jobs (jobs with an 'image:' only)`
  );
}

function currentUser(): { uid: number; username: string } {
  try {
    const { uid, username } = userInfo();
    return { uid, username };
  } catch {
    return { uid: process.getuid?.() ?? -1, username: 'no user name' }; // a uid without a passwd entry (a container's)
  }
}

/**
 * Whose token this is, from the server's health check. A server not up yet (a refused
 * connection, a proxy's 502/503: client/server-up.ts) is waited for, with a line in the log
 * at each try, since a service manager may start the runner before its server; anything else
 * (a name that does not resolve, a refused token) fails at once.
 */
async function serverCaller(
  server: string,
  token: string,
  from: { token: boolean; server: boolean },
  settings: Settings,
): Promise<string> {
  const urlSource = from.server ? '--server' : 'DSTACK_SERVER';
  const client = new RunnerClient({ url: server, token, tokenSource: runnerToken(from.token), urlSource });
  const logger = createLogger('runner', settings.logLevel);
  // No signal handler is installed yet: Ctrl-C or SIGTERM during a wait ends the process, with nothing to stop.
  const { caller } = await waitForServer(() => client.health(), {
    onWait: (error, delayMs) => {
      const why = (error as Error).message.replace(`cannot reach the dstack server at ${server}: `, '');
      logger.warn(`the dstack server at ${server} is not up yet (${why}); trying again in ${delayMs / 1000} s`);
    },
  });
  return caller;
}

export async function runnerStartCommand(options: RunnerStartOptions, settings: Settings): Promise<'keep-alive'> {
  const server = options.server ?? settings.serverUrl;
  const token = options.token ?? settings.token;
  if (!server || !token)
    throw new UsageError(
      'dstack runner start needs --server URL and its token in DSTACK_TOKEN (or --token RUNNER_TOKEN), ' +
        'from: dstack runners add NAME',
    );
  const venvCache = readVenvCacheLimits(options);
  // A long-lived process's arguments are readable by every user of the machine (ps): the token leaves them.
  if (options.token !== undefined) process.title = `dstack runner start --server ${server}`;
  serverUrl(server, options.server === undefined ? 'DSTACK_SERVER' : '--server');
  const overrides: Parameters<typeof detectCapacity>[0] = {};
  if (options.cpu !== undefined) {
    const cpu = Number(options.cpu);
    if (!Number.isFinite(cpu) || cpu <= 0)
      throw new UsageError(`invalid --cpu '${options.cpu}': expected a number of cores`);
    overrides.cpu = cpu;
  }
  if (options.memory !== undefined) {
    const memory = parseSize(options.memory);
    if (memory === null) throw new UsageError(`invalid --memory '${options.memory}': expected a size like 16GB`);
    // `--memory 16` is 16MB, as in a workflow's resources: no machine that runs jobs has so little.
    if (/^\d+$/.test(options.memory.trim()) && memory < 1 << 30) {
      throw new UsageError(
        `invalid --memory '${options.memory}': a bare number is megabytes (${options.memory}MB); write ${options.memory}GB, or ${options.memory}MB to mean it`,
      );
    }
    overrides.memory = memory;
  }
  // Its form checked before the server is waited for (which may be hours): the GPUs it names are checked once detected.
  if (options.gpus !== undefined) gpusFlag(options.gpus);
  const workRoot = resolve(options.workDir ?? runnerWorkDir(settings.home));
  await makePrivateFolder(
    workRoot,
    options.workDir === undefined ? homeSetting(settings.home) : { setting: '--work-dir', value: options.workDir },
  ).catch((e: unknown) => {
    throw explainWrite(e, workRoot, 'starting the runner', 'give it another --work-dir');
  });
  const caller = await serverCaller(
    server,
    token,
    { token: options.token !== undefined, server: options.server !== undefined },
    settings,
  );
  if (options.name !== undefined && options.name !== caller) {
    throw new UsageError(`--name '${options.name}' does not match the token, which is for runner '${caller}'`);
  }
  const logger = createLogger(`runner:${caller}`, settings.logLevel);
  const hostJobs = options.hostJobs !== false;
  const warning = hostJobsWarning(server, hostJobs);
  if (warning) logger.warn(warning);
  for (const over of overOfferWarnings(overrides, { cpu: availableParallelism(), memory: totalmem() }))
    logger.warn(over);
  const detected = await detectGpus({ warn: (message) => logger.warn(message) });
  overrides.gpus = options.gpus === undefined ? detected : declaredGpus(options.gpus, detected);
  const client = new RunnerClient({ url: server, token, retry: runnerRetry(logger, RUNNER_OUTAGE_MS) });
  const stopGraceMs = settings.stopGraceSeconds * 1000;
  const baseEnv = runnerEnvironment();
  const agent = new RunnerAgent({
    client,
    name: caller,
    workRoot,
    capacity: await detectCapacity(overrides),
    // Long-lived: jobs start from a helper, which ends them as a stop does if this process dies.
    executor: new ProcessExecutor(workRoot, { spawner: true, stopGraceMs }),
    logger,
    baseEnv,
    abilities: abilityProbe(baseEnv, hostJobs),
    // Among other runners: registered knowing its Pythons, it is offered only python jobs it can run.
    pythonsWaitMs: 30_000,
    stopGraceMs,
    venvCache,
    hostJobs,
    onRefused: () => process.exit(1),
  });
  await agent.start();
  onShutdownSignals(
    async () => {
      await agent.drain(RUNNER_SHUTDOWN_REASON).catch((e: unknown) => {
        // The server cannot be told (it is down): the jobs end with this process, as a crash's do
        // (the spawner helper stops them once this process has exited), unreported: the server
        // fails them as lost.
        logger.warn(
          'could not stop the jobs through the server; exiting, and they end here unreported ' +
            `(SIGTERM, then SIGKILL after ${settings.stopGraceSeconds} s)`,
          { error: String(e) },
        );
      });
      await agent.stop();
    },
    logger,
    JOBS_STOP,
  );
  return 'keep-alive';
}

/**
 * `--gpus N`: the first N of the GPUs detected, at most as many as nvidia-smi lists (where it
 * lists none, N GPUs named generically: a machine whose driver has no nvidia-smi, and tests);
 * `--gpus 0,2`: those GPUs by nvidia-smi's index, which must be detected.
 */
export function declaredGpus(value: string, detected: readonly GpuInfo[]): GpuInfo[] {
  const flag = gpusFlag(value);
  if ('count' in flag) {
    const { count } = flag;
    // More than there are: a job given the ones beyond would find CUDA_VISIBLE_DEVICES naming GPUs CUDA does not have.
    if (detected.length > 0 && count > detected.length)
      throw new UsageError(
        `invalid --gpus '${value}': nvidia-smi lists ${plural(detected.length, 'GPU')} here ` +
          `(${detected.map((g) => g.index).join(', ')}): offer at most ${detected.length}, or name them by index (0,2)`,
      );
    return Array.from({ length: count }, (_, i) => detected[i] ?? { index: i, name: 'GPU', memory: 0 });
  }
  return flag.indices.map((index) => {
    const gpu = detected.find((g) => g.index === index);
    if (gpu) return gpu;
    const listed = detected.length === 0 ? 'none' : detected.map((g) => g.index).join(', ');
    throw new UsageError(`invalid --gpus '${value}': no GPU ${index} here (nvidia-smi lists ${listed})`);
  });
}

/** `--gpus` read: a number of GPUs (`2`) or their indices (`0,2`), before any is detected. */
function gpusFlag(value: string): { count: number } | { indices: number[] } {
  if (/^\d+$/.test(value)) return { count: Number(value) };
  const indices = value.split(',').map((s) => s.trim());
  if (!indices.every((i) => /^\d+$/.test(i))) {
    throw new UsageError(`invalid --gpus '${value}': expected a number of GPUs (2) or their indices (0,2)`);
  }
  return { indices: [...new Set(indices.map(Number))] };
}
