/**
 * What a job needs of a runner besides its size: a Docker engine for a job with an image, the
 * Python it names for a python job without one, and host jobs enabled for one that runs on the
 * runner's host. Runners tell what they have with their capacity (Capacity.docker, .python,
 * .host); one that tells nothing (an older runner, Slurm's) is offered any job, as before runners
 * told. `neverRuns` joins this to the size (neverFits).
 */
import type { JobSpec } from './job-spec.js';
import { neverFits, type Capacity } from './resources.js';

/** In Capacity.python: the runner runs python jobs in `python:3.X` images (DSTACK_PYTHON_RUNTIME=docker). */
export const PYTHON_IN_DOCKER = 'docker';

/** `3.10.4` → `3.10`; `3` stays `3`. */
export function majorMinor(version: string): string {
  return version.trim().split('.').slice(0, 2).join('.');
}

/** The Python a python job names (`python:` or `version:`), as written; undefined when it names none. */
export function pythonParam(params: Record<string, unknown>): string | undefined {
  return param(params, 'python', 'version');
}

/** The first of `names` that a job's params set to more than blanks, trimmed. */
export function param(params: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = params[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/**
 * Why the embedded server fails a job its one runner, this machine, could never run: `what` it
 * lacks (`1 GPU`), and `how` to get it where there is a way. `dstack run --dry-run` says the same.
 */
export const thisMachineLacks = (what: string, how?: string) =>
  `this machine does not have ${what}${how ? `: ${how}` : ''}`;

/** What `lacks` says of a runner whose Docker engine does not answer. */
export const DOCKER_ENGINE = 'a Docker engine';

/** What `lacks` says of a runner started with --no-host-jobs, for a job that would run on its host. */
export const HOST_JOBS = 'host jobs enabled';

/**
 * Whether `spec` runs on the runner's host: user code as its uid (a job without an image, but a
 * python job on a runner that runs them in `python:3.X` images: `pythonInDocker`,
 * DSTACK_PYTHON_RUNTIME=docker), or a curl job, which the runner downloads itself
 * (runner/fetch-job.ts) from the host's network: the URL is the user's, and on a runner whose
 * containers reach no network it read the host's loopback services and its cloud's metadata.
 */
export function runsOnHost(spec: Pick<JobSpec, 'image' | 'provider'>, pythonInDocker: boolean): boolean {
  if (spec.provider === 'curl') return true;
  if (spec.image !== undefined) return false;
  return !(spec.provider === 'python' && pythonInDocker);
}

/**
 * What the runner of `total` lacks for `spec` (`a Docker engine`, `Python 3.11`, `host jobs
 * enabled`), or null when it lacks nothing it told of. A python job without an image runs
 * `python3`, or `python3.X` for the version it names (runner/python-job.ts): the runner lists
 * those that work (`3`, `3.11`).
 */
export function lacks(spec: Pick<JobSpec, 'image' | 'provider' | 'params'>, total: Capacity): string | null {
  // Downloaded by the runner itself, whatever image the job names.
  if (total.host === false && spec.provider === 'curl') return HOST_JOBS;
  const hostPython = spec.provider === 'python' && spec.image === undefined;
  const inDocker = spec.image !== undefined || (hostPython && total.python?.includes(PYTHON_IN_DOCKER) === true);
  if (inDocker) return total.docker === false ? DOCKER_ENGINE : null;
  if (total.host === false && runsOnHost(spec, false)) return HOST_JOBS;
  if (!hostPython || total.python === undefined) return null;
  const version = pythonParam(spec.params);
  return total.python.includes(majorMinor(version ?? '3')) ? null : `Python ${version ?? '3'}`;
}

/** Why a runner could never run a job: what it is too small for, what it lacks; null where nothing. */
export interface NeverRuns {
  /** neverFits: `2 GPUs`, `512 CPUs and 2.0TB of memory`. */
  size: string | null;
  /** lacks: `a Docker engine`, `Python 3.11`, `host jobs enabled`. */
  ability: string | null;
}

/**
 * Why the runner of `total` could never run `spec`, however many of its jobs end: too small for
 * it, lacking what it must run with, or both; null when it could. The scheduler holds no room back
 * for such a job, the monitor says why it waits, and Slurm fails one it cannot run if no other runner could.
 */
export function neverRuns(
  spec: Pick<JobSpec, 'image' | 'provider' | 'params' | 'resources'>,
  total: Capacity,
): NeverRuns | null {
  const size = neverFits(spec.resources, total);
  const ability = lacks(spec, total);
  return size === null && ability === null ? null : { size, ability };
}

/**
 * How the runner of `total` could get what it lacks for `spec`, for the embedded server's failure,
 * whose one runner is this machine: `start dockerd, …`; undefined when it lacks nothing.
 */
export function howToGet(spec: Pick<JobSpec, 'image' | 'provider' | 'params'>, total: Capacity): string | undefined {
  const lack = lacks(spec, total);
  if (lack === null) return undefined;
  // The runner's own words (the socket, and why: permission denied, no such socket); an older runner tells none.
  if (lack === DOCKER_ENGINE)
    return total.dockerProblem ?? 'none answers at its DOCKER_HOST (start dockerd, or set DOCKER_HOST to its socket)';
  if (lack === HOST_JOBS) return spec.provider === 'curl' ? NO_HOST_CURL_HINT : NO_HOST_JOBS_HINT;
  return pythonHint(pythonParam(spec.params));
}

/** How a job that runs on its runner's host gets to run where runners were started with --no-host-jobs. */
export const NO_HOST_JOBS_HINT =
  "its runners run only jobs in containers (dstack runner start --no-host-jobs): give the job an 'image:', " +
  'or start a runner without --no-host-jobs';

/** How a curl job gets to run where runners were started with --no-host-jobs. */
export const NO_HOST_CURL_HINT =
  "its runners run only jobs in containers (dstack runner start --no-host-jobs), and a curl job downloads on the runner's " +
  "host, from its network: download with curl in a job with an 'image:', or start a runner without --no-host-jobs";

/**
 * Why a runner started with --no-host-jobs fails a job that would run on its host, should one
 * reach it (from an older server, which does not read Capacity.host).
 */
export const HOST_JOB_REFUSED =
  "this runner runs only jobs in containers (dstack runner start --no-host-jobs), and this job has no 'image:': " +
  'give it one, or run it where a runner without --no-host-jobs is';

/** How a runner without the Python a job names (`version`, or none: `python3`) could run it. */
export function pythonHint(version: string | undefined): string {
  // The image is python:3.10 when the job names no version (runner/python-job.ts).
  return (
    `no working 'python${majorMinor(version ?? '3')}' on its PATH (use a version it has, or run the job in the ` +
    `python:${majorMinor(version ?? '3.10')} image: DSTACK_PYTHON_RUNTIME=docker on the runner)`
  );
}
