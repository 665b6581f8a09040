/**
 * Executors run a job's commands: as processes on the runner's host, or in a Docker
 * container. The runner streams what they print and signals them to stop.
 */
import type { Readable } from 'node:stream';
import type { JobResources } from '../../core/job-spec.js';

export { CONTAINER_WORKSPACE } from '../../core/container-paths.js';

/** A host folder made visible inside a container. */
export interface Mount {
  /** Absolute path on the runner's host; created when missing. */
  host: string;
  /** Absolute path inside the container. */
  container: string;
  readOnly?: boolean;
}

/**
 * Where a job's output goes. False asks the executor to read no more of the job's output
 * until `whenDrained` calls back: the runner's log queue is full, and the job waits on its
 * writes rather than the runner's memory growing without bound (Docker's blocking log mode).
 */
export type OnOutput = (stream: 'stdout' | 'stderr', chunk: Buffer) => boolean | void;
export type WhenDrained = (resume: () => void) => void;

/**
 * Feed `source`'s chunks to `onOutput`, pausing `pausable` (the source, or the stream it is
 * read from) whenever `onOutput` asks, until `whenDrained` resumes it. Returns the handler, for
 * bytes that arrived some other way first.
 */
export function readOutput(
  source: Readable,
  stream: 'stdout' | 'stderr',
  sink: { onOutput: OnOutput; whenDrained?: WhenDrained | undefined },
  pausable: Pick<Readable, 'pause' | 'resume'> = source,
): (chunk: Buffer) => void {
  const take = (chunk: Buffer) => {
    if (sink.onOutput(stream, chunk) !== false || !sink.whenDrained) return;
    pausable.pause();
    sink.whenDrained(() => pausable.resume());
  };
  source.on('data', take);
  return take;
}

export interface ExecutionRequest {
  /** Names the script file, and labels the container (`dstack.job`). */
  jobId: string;
  /** Absolute path of the job's workspace on the host; the commands start there (`/workspace` in a container). */
  workspace: string;
  commands: string[];
  /** Run in a container of this image; only the docker executor accepts it. */
  image?: string;
  /** The whole environment of the commands: the host executor passes nothing else. */
  env: Record<string, string>;
  /** Limits of a container (cpu, memory in bytes, shared memory); the host executor only reserves. */
  resources?: JobResources;
  /** Indices of the runner's GPUs the scheduler assigned, given to a container by device request. */
  gpus?: number[];
  /** Extra folders for a container (absolute artifact paths, a cached virtualenv). */
  mounts?: Mount[];
  /** Called with raw output chunks, in order per stream; false: read no more until `whenDrained` calls back. */
  onOutput: OnOutput;
  /** Calls `resume` once the output taken so far has gone on (see `OnOutput`). */
  whenDrained?: WhenDrained;
  /** A line about preparing the execution (image pull progress) for the job's log. */
  onNote?: (text: string) => void;
  /** Abandons preparing (an image pull) when aborted, and then starts nothing (the job was stopped). */
  signal?: AbortSignal;
  /** Ends the job's container should this process die while it runs (the docker executor registers it there). */
  guard?: ContainerGuard;
}

/** Where a process with no dockerode reaches a Docker engine's API: its unix socket, or host and port (http). */
export type EngineAddress = { socketPath: string } | { host: string; port: number };

/**
 * Something that outlives this process (the spawner's helper) and ends a container as a stop
 * does (`docker stop` with the runner's grace: SIGTERM, then SIGKILL) once this process is gone.
 */
export interface ContainerGuard {
  /** Watch `container`; resolves once it is watched, with the function that stops watching it. */
  guardContainer(engine: EngineAddress, container: string): Promise<() => void>;
}

export interface Execution {
  /** The process group leader's pid, recorded so that a restarted runner can end what it left. */
  readonly pid: number | undefined;
  /** Resolves when the job's process (group) or container has exited and its output is drained. */
  readonly exit: Promise<ExitResult>;
  /** Ask the job to end (SIGTERM to its whole process group, or to the container). */
  terminate(): void;
  /** End it now (SIGKILL). */
  kill(): void;
}

export interface ExitResult {
  /** Exit code, or null when it ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it failed when the exit code does not say (`out of memory`, an HTTP error); the job's reason. */
  reason?: string;
  /**
   * Ended from outside, not by its commands (its Docker engine shut down, stopping its
   * container): the job stops, resumable, as a runner's shutdown stops it, rather than failing.
   */
  interrupted?: boolean;
}

export interface Executor {
  start(request: ExecutionRequest): Promise<Execution>;
  /** What ends this runner's containers should its process die: a long-lived runner's host executor has one. */
  readonly containerGuard?: ContainerGuard;
}
