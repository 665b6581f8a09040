/**
 * The local background server seen from the CLI: what its own runner is running, and the
 * replacement of a server an earlier build of dstack started (after `git pull && npm ci`,
 * say), which would otherwise keep serving the old code until someone stops it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../client/client.js';
import { readLocalServer, SHELL_SETTINGS, type LocalServerInfo } from '../client/embedded.js';
import { isAlive } from '../client/process-alive.js';
import { LOCAL_RUNNER } from '../core/api.js';
import { within } from '../core/concurrency.js';
import type { JobRecord } from '../core/records.js';
import { plural } from '../core/resources.js';
import { buildId } from './entry-points.js';

/** How long to wait for the local server to list its jobs. */
const ASK_MS = 5_000;
/** Time for a server with no jobs of its own running to close. */
export const CLOSE_MS = 15_000;

/** The unfinished jobs of the runner inside the local server; undefined when it does not answer in time. */
export async function localRunnerJobs(local: {
  info: LocalServerInfo;
  token: string;
}): Promise<JobRecord[] | undefined> {
  const client = new Client({ url: local.info.url, token: local.token });
  const runners = await within(
    client.runners().catch(() => undefined),
    ASK_MS,
  );
  return runners && (runners.find((r) => r.name === LOCAL_RUNNER)?.jobs ?? []);
}

/** Whether `pid` has exited within `ms`. */
export async function exited(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; isAlive(pid) && Date.now() < deadline;) await sleep(50);
  return !isAlive(pid);
}

/**
 * Why the local server should not serve this CLI: it runs another build of dstack, this
 * shell names another Docker engine (DOCKER_HOST) than the one its runner uses, or it sets
 * what its jobs take from a shell otherwise (an activated venv). A shell without DOCKER_HOST
 * takes the server's.
 */
function staleness(info: LocalServerInfo, env: NodeJS.ProcessEnv): string | undefined {
  const build = buildId();
  if (build && info.build !== build) return 'it runs an earlier build of dstack';
  const wanted = env['DOCKER_HOST'] || undefined;
  if (wanted && wanted !== info.dockerHost)
    return `it was started with DOCKER_HOST${info.dockerHost ? `=${info.dockerHost}` : ' unset'}, and this shell sets ${wanted}`;
  if (!info.shell) return undefined; // started by a build that did not record it
  const changed = SHELL_SETTINGS.filter((name) => (env[name] || undefined) !== info.shell![name]);
  if (changed.length > 0)
    return (
      `this shell's ${changed.join(', ')} ${changed.length === 1 ? 'differs from the one' : 'differ from those'} ` +
      'it was started with, which its jobs run with'
    );
  return undefined;
}

/**
 * A local server that should not serve this CLI (`staleness`) is stopped when its runner is
 * idle, so that the next one starts from this build and this shell; one running jobs is left
 * to them, with a warning. The stop is the same SIGTERM as `dstack server stop`'s: runs and
 * logs are in its data folder, kept.
 */
export async function replaceStaleServer(
  home: string,
  warn: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const local = await readLocalServer(home);
  const why = local && staleness(local.info, env);
  if (!local || !why || !isAlive(local.info.pid)) return;
  const { pid } = local.info;
  const jobs = await localRunnerJobs(local);
  if (jobs === undefined) return; // busy or starting: not to be judged now
  if (jobs.length > 0) {
    warn(
      `the local server (pid ${pid}) has ${plural(jobs.length, 'job')} running, though ${why}; ` +
        'it serves this command, and the first command after they end replaces it',
    );
    return;
  }
  warn(`restarting the local server (pid ${pid}): ${why}`);
  process.kill(pid, 'SIGTERM');
  if (!(await exited(pid, CLOSE_MS))) process.kill(pid, 'SIGKILL');
}
