/**
 * What kinds of job this runner can run, told to the server with its capacity so that it is
 * offered only those (core/job-needs.ts): whether a Docker engine answers (jobs with an image
 * need one), and which Pythons python jobs without an image can name. A Docker engine may come
 * and go, so it is asked again as the runner heartbeats; the Pythons are looked for once.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import Docker from 'dockerode';
import { PYTHON_IN_DOCKER } from '../core/job-needs.js';
import type { Capacity } from '../core/resources.js';
import { readProviderSettings } from '../settings.js';
import { parseDockerHost } from './executors/docker/engine.js';

export type RunnerAbilities = Required<Pick<Capacity, 'docker' | 'python'>>;
export type AbilityProbe = () => Promise<RunnerAbilities>;

/** How long a Docker engine may take to answer a ping before it counts as absent, ms. */
const PING_MS = 3_000;
/** The least time between two probes, ms: the heartbeat loop asks at every turn. */
const CHECK_MS = 5_000;

/** Whether the Docker engine at `host` (DOCKER_HOST) answers a ping. */
export async function dockerAnswers(host: string): Promise<boolean> {
  try {
    const docker = new Docker({ ...parseDockerHost(host).options, timeout: PING_MS });
    await docker.ping();
    return true;
  } catch {
    return false; // no socket, refused, not ours, an unsupported DOCKER_HOST, or no answer in time
  }
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
  const works = (name: string) =>
    new Promise<boolean>((resolve) => {
      execFile(name, ['-c', 'pass'], { env, timeout: 10_000 }, (error) => resolve(!error));
    });
  const found = await Promise.all([...names].map(async (name) => ((await works(name)) ? [name.slice(6)] : [])));
  return found.flat().sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The probe of a runner whose jobs get `env`: Docker asked each time, the Pythons looked for once. */
export function abilityProbe(env: Record<string, string>): AbilityProbe {
  let pythons: Promise<string[]> | undefined;
  return async () => {
    const settings = readProviderSettings();
    // DSTACK_PYTHON_RUNTIME=docker: python jobs run in python:3.X images, so they need Docker instead.
    pythons ??= settings.pythonRuntime === 'docker' ? Promise.resolve([PYTHON_IN_DOCKER]) : hostPythons(env);
    const [docker, python] = await Promise.all([dockerAnswers(settings.dockerHost), pythons]);
    return { docker, python };
  };
}

/**
 * The runner's abilities as last probed, and whether the server has heard them: the register
 * sends the first, a heartbeat any that changed after it.
 */
export class AbilityWatch {
  private current: RunnerAbilities | undefined;
  private told: string | undefined;
  private checkedAt = 0;
  private checking = false;

  constructor(
    private readonly probe: AbilityProbe,
    /** Said when they change (the first probe included), for the runner's log. */
    private readonly note: (text: string) => void,
  ) {}

  /** Probe now (before registering); what to register with. */
  async now(): Promise<RunnerAbilities> {
    this.set(await this.probe());
    return this.current!;
  }

  /** The server has heard `abilities` (registered, or a heartbeat that carried them was answered). */
  heard(abilities: RunnerAbilities): void {
    this.told = JSON.stringify(abilities);
  }

  /** Abilities the server has not heard yet, for the next heartbeat; undefined when it has them. */
  unheard(): RunnerAbilities | undefined {
    return this.current !== undefined && JSON.stringify(this.current) !== this.told ? this.current : undefined;
  }

  /** Probe again in the background unless done lately; `changed` is called when the result differs. */
  check(changed: () => void): void {
    if (this.checking || Date.now() - this.checkedAt < CHECK_MS) return;
    this.checking = true;
    void this.probe()
      .then((found) => {
        if (this.set(found)) changed();
      })
      .catch(() => {}) // a probe does not throw; a failed one just leaves what was known
      .finally(() => (this.checking = false));
  }

  private set(found: RunnerAbilities): boolean {
    this.checkedAt = Date.now();
    const before = this.current;
    this.current = found;
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(found)) return false;
    if (before === undefined || before.docker !== found.docker)
      this.note(
        found.docker
          ? 'a Docker engine answers: jobs with an image can run here'
          : `no Docker engine answers at ${readProviderSettings().dockerHost}: jobs with an image go to other runners`,
      );
    return true;
  }
}
