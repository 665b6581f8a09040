/**
 * What kinds of job this runner can run, told to the server with its capacity so that it is
 * offered only those (core/job-needs.ts): whether a Docker engine answers (jobs with an image
 * need one), and which Pythons python jobs without an image can name. A Docker engine may come
 * and go, so it is asked again as the runner heartbeats; the Pythons are looked for once.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { setPriority } from 'node:os';
import type Docker from 'dockerode';
import { within } from '../core/concurrency.js';
import { PYTHON_IN_DOCKER } from '../core/job-needs.js';
import type { Capacity } from '../core/resources.js';
import { readProviderSettings } from '../settings.js';
import { missingNetwork, NO_NETWORK } from './executors/docker/network.js';

export type RunnerAbilities = Pick<Capacity, 'docker' | 'dockerProblem' | 'python'>;

/**
 * How a runner finds what it can run: asked once for its Pythons, and for its Docker engine at
 * each check after the start (whose answer is the start's ping: AbilityWatch.now).
 */
export interface AbilityProbe {
  /** Why no Docker engine answers (dockerProblem); undefined when one does. */
  docker(): Promise<string | undefined>;
  pythons(): Promise<string[]>;
}

/** How long a Docker engine may take to answer a ping before it counts as absent, ms. */
const PING_MS = 3_000;
/** The least time between two pings of the Docker engine, ms: the heartbeat loop asks at every turn. */
const CHECK_MS = 5_000;
/**
 * How long the register waits for the Pythons by default, ms. Looking runs each `pythonX.Y` on
 * the PATH, and pyenv's shims take a second: the runner registers without them (not told: any
 * python job may come, as from an older runner) and tells them with a heartbeat once known, so
 * that the embedded server's first `dstack run` does not wait on them. A runner among others
 * waits longer (RunnerAgentOptions.pythonsWaitMs).
 */
const PYTHONS_WAIT_MS = 200;

/**
 * Why no Docker engine answers at `host` (DOCKER_HOST): `none answers at /var/run/docker.sock
 * (permission denied): …`, or a DOCKER_HOST it cannot use; undefined when one answers a ping.
 */
export async function dockerProblem(
  host: string,
  network = readProviderSettings().dockerNetwork,
): Promise<string | undefined> {
  // Loaded here, not at the top: dockerode costs ~150 ms, and a server without a runner of its own needs none.
  const [{ default: Docker }, { parseDockerHost, unanswered }] = await Promise.all([
    import('dockerode'),
    import('./executors/docker/engine.js'),
  ]);
  let endpoint: ReturnType<typeof parseDockerHost>;
  try {
    endpoint = parseDockerHost(host);
  } catch (e) {
    return (e as Error).message; // an unsupported DOCKER_HOST: it says which forms are
  }
  try {
    // A client of its own: the ping's timeout is the request's, not a wait that leaves it pending.
    const docker = new Docker({ ...endpoint.options, timeout: PING_MS });
    await docker.ping();
    return await missingNetwork(docker, network);
  } catch (e) {
    return `none answers at ${unanswered(endpoint.label, e)}`; // no socket, refused, not ours, or no answer in time
  }
}

/**
 * A client of the Docker engine at `host` once it has answered a ping (connectDocker's), or why
 * none does. The runner's start asks once: the client removes the containers a previous runner
 * left, and whether there was one (and why not) is what the runner first tells (AbilityWatch.now).
 * An engine that answers but lacks the containers' `network` comes with that problem too: its
 * leftovers are still removed, and no job with an image comes.
 */
export async function answeringDocker(
  host: string,
  network = readProviderSettings().dockerNetwork,
): Promise<{ docker: Docker; problem?: string } | { problem: string }> {
  // Loaded here, as in dockerProblem: dockerode costs ~150 ms, and a server without a runner of its own needs none.
  const { reachDocker } = await import('./executors/docker/engine.js');
  const reached = await reachDocker(host);
  if (!('docker' in reached)) return reached;
  const problem = await missingNetwork(reached.docker, network);
  return problem === undefined ? reached : { ...reached, problem };
}

/**
 * The Pythons a python job without an image can name on this host, as python-job.ts runs them:
 * `3` for a working `python3`, `3.11` for a working `python3.11`, found on `env`'s PATH. A name
 * that is there but does not run (a pyenv shim of a version not installed) is left out.
 */
export async function hostPythons(env: Record<string, string>): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of (env['PATH'] ?? '').split(':').filter(Boolean)) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const name of entries) if (/^python\d+(\.\d+)?$/.test(name)) names.add(name);
  }
  // One at a time, at the lowest CPU priority: pyenv's shims take a second of CPU each, and the
  // embedded server's first jobs start meanwhile.
  const found: string[] = [];
  for (const name of names) if (await works(name, env)) found.push(name.slice('python'.length));
  return found.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function works(name: string, env: Record<string, string>): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const child = execFile(name, ['-c', 'pass'], { env, timeout: 10_000 }, (error) => resolve(!error));
    try {
      if (child.pid !== undefined) setPriority(child.pid, 19);
    } catch {
      // not allowed here: it runs at the runner's priority
    }
  });
}

/** The probe of a runner whose jobs get `env`; `hostJobs` false: it runs none (--no-host-jobs), so no host Python. */
export function abilityProbe(env: Record<string, string>, hostJobs = true): AbilityProbe {
  return {
    docker: () => dockerProblem(readProviderSettings().dockerHost),
    // DSTACK_PYTHON_RUNTIME=docker: python jobs run in python:3.X images, so they need Docker instead.
    pythons: async () =>
      readProviderSettings().pythonRuntime === 'docker' ? [PYTHON_IN_DOCKER] : hostJobs ? hostPythons(env) : [],
  };
}

/**
 * The runner's abilities as last found, and whether the server has heard them: the register
 * sends the first, a heartbeat any that changed after it. The look for Pythons starts at once.
 */
export class AbilityWatch {
  /** Why no Docker engine answers, '' when one does; undefined until first known. */
  private dockerProblem: string | undefined;
  private python: string[] | undefined;
  private readonly pythons: Promise<void>;
  private told: string | undefined;
  private checkedAt = 0;
  private checking = false;
  /** Cuts the heartbeat's wait short, so that the next one tells what changed. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly probe: AbilityProbe,
    /**
     * Said when the Docker engine is found there or not (at the start, and when that changes), for
     * the runner's log; `warn`: the runner can then run nothing.
     */
    private readonly note: (text: string, warn?: boolean) => void,
    private readonly pythonsWaitMs = PYTHONS_WAIT_MS,
    /** Whether the runner runs host jobs (false: --no-host-jobs, so jobs with an image are all it runs). */
    private readonly hostJobs = true,
  ) {
    this.pythons = probe
      .pythons()
      .then((found) => {
        this.python = found;
        this.wake?.();
      })
      .catch(() => {}); // not found: not told
  }

  /**
   * What to register with: whether a Docker engine answered the start's ping (answeringDocker's,
   * whose client removed its leftover containers) and why not (`dockerProblem`), and the Pythons if known soon.
   */
  async now(dockerProblem: string | undefined): Promise<RunnerAbilities> {
    await within(this.pythons, this.pythonsWaitMs);
    this.setDocker(dockerProblem);
    return this.current();
  }

  /** The server has heard `abilities` (registered, or a heartbeat that carried them was answered). */
  heard(abilities: RunnerAbilities): void {
    this.told = JSON.stringify(abilities);
  }

  /** Abilities the server has not heard yet, for the next heartbeat; undefined when it has them. */
  unheard(): RunnerAbilities | undefined {
    const current = this.current();
    return this.dockerProblem !== undefined && JSON.stringify(current) !== this.told ? current : undefined;
  }

  /** Ping the Docker engine again in the background unless done lately; `changed` is called when that changes. */
  check(changed: () => void): void {
    this.wake = changed;
    if (this.checking || Date.now() - this.checkedAt < CHECK_MS) return;
    this.checking = true;
    void this.probe
      .docker()
      .then((problem) => {
        if (this.setDocker(problem)) changed();
      })
      .catch(() => {}) // a ping does not throw; a failed one just leaves what was known
      .finally(() => (this.checking = false));
  }

  private current(): RunnerAbilities {
    const problem = this.dockerProblem;
    return {
      ...(problem === undefined ? {} : { docker: problem === '' }),
      ...(problem ? { dockerProblem: problem } : {}),
      ...(this.python && { python: this.python }),
    };
  }

  /** Whether the engine's answer (or why there is none) changed; a changed reason is told too. */
  private setDocker(problem: string | undefined): boolean {
    this.checkedAt = Date.now();
    if ((problem ?? '') === this.dockerProblem) return false;
    this.dockerProblem = problem ?? '';
    if (problem === undefined) {
      this.note('a Docker engine answers: this runner takes jobs with an image');
      return true;
    }
    const [why, until] = problem.startsWith(NO_NETWORK)
      ? [`a Docker engine answers, but ${problem}`, 'until it has that network']
      : [`no Docker engine: ${problem}`, 'until one answers'];
    // Without host jobs nothing is left for it to run: a warning, for the admin who reads the log.
    if (this.hostJobs) this.note(`${why}; this runner takes no job with an image ${until}`);
    else this.note(`${why}; started with --no-host-jobs, this runner runs no job at all ${until}`, true);
    return true;
  }
}
