/**
 * Executors run a job's commands: as processes on the runner's host, or (later) in a
 * Docker container. The runner streams what they print and signals them to stop.
 */
export interface ExecutionRequest {
  jobId: string;
  /** Absolute path of the job's workspace; the commands start there. */
  workspace: string;
  commands: string[];
  image?: string;
  env: Record<string, string>;
  /** Called with raw output chunks, in order per stream. */
  onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface Execution {
  /** The process group leader's pid, recorded so that a restarted runner can end what it left. */
  readonly pid: number | undefined;
  /** Resolves when the job's process (group) has exited. */
  readonly exit: Promise<ExitResult>;
  /** Ask the job to end (SIGTERM to its whole process group). */
  terminate(): void;
  /** End it now (SIGKILL to its whole process group). */
  kill(): void;
}

export interface ExitResult {
  /** Exit code, or null when it ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Executor {
  start(request: ExecutionRequest): Promise<Execution>;
}
