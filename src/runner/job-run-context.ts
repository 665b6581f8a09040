/** What whoever runs a job on a runner (the agent, the one-shot runner) gives each job run (job-run.ts). */
import type { RunnerClient } from '../client/runner-client.js';
import type { Logger } from '../logger.js';
import type { Executor } from './executors/executor.js';
import type { Trash } from './trash.js';

export interface JobRunContext {
  client: RunnerClient;
  executor: Executor;
  workRoot: string;
  logger: Logger;
  /** Environment the runner passes on to jobs (its own, less dstack's secrets). */
  baseEnv: Record<string, string>;
  stopGraceMs: number;
  /** Where finished jobs' folders go to be removed in the background; without one, removed in place. */
  trash?: Trash;
  /** Log lines go to a spool file before they are sent (RunnerOptions.spoolLogs); default true. */
  spoolLogs?: boolean;
  /**
   * False: the runner was started with --no-host-jobs, and fails a job that would run on its host
   * (core/job-needs.ts runsOnHost) rather than run it: one reaches it only from an older server.
   */
  hostJobs?: boolean;
  /** Told when a job has built a cached virtualenv (LaunchContext.venvBuilt). */
  venvBuilt?: () => void;
  /**
   * Awaited once the job's commands have ended with no stop or abort requested, before their end
   * is reported: whoever runs the job may find it was ended from outside (a one-shot runner asks
   * Slurm) and request the stop then, so that it ends STOPPED, not as its exit code says.
   */
  commandsEnded?: () => Promise<void>;
}
