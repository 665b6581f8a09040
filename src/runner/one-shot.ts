/**
 * One job, in a process of its own (`dstack runner exec`): what a Slurm batch job runs. It
 * fetches the job's assignment, runs it as any runner does (workspace, commands, logs,
 * artifacts, status), and listens for stop and abort through a heartbeat for that job.
 *
 * SIGTERM comes from Slurm: for a dstack stop (`scancel --signal=TERM --batch`) the server
 * says so and the job stops as usual; otherwise Slurm itself is ending the job (time limit,
 * preemption, a cancel by someone else), and the runner stops it as a drain does, artifacts
 * saved, before Slurm's KillWait runs out: STOPPED, so that `dstack resume` goes on from them.
 */
import type { RunnerClient } from '../client/runner-client.js';
import type { Assignment } from '../core/api.js';
import { pause } from '../core/concurrency.js';
import { ConflictError, UnauthorizedError } from '../core/errors.js';
import { SLURM_ENDED, type JobStatus } from '../core/job-status.js';
import type { GpuInfo } from '../core/resources.js';
import type { Logger } from '../logger.js';
import { batchJobEnding, type BatchJob } from './batch-job-state.js';
import type { Executor } from './executors/executor.js';
import { JobRun } from './job-run.js';
import { REFUSED_ABORT_MS, refusedTokenMessage } from './refused-token.js';
import type { ReportingClient } from './reporting-client.js';

export { ReportingClient } from './reporting-client.js';

export interface OneShotOptions {
  client: ReportingClient;
  jobId: string;
  workRoot: string;
  executor: Executor;
  logger: Logger;
  baseEnv: Record<string, string>;
  stopGraceMs: number;
  /** `CUDA_VISIBLE_DEVICES` as the cluster's scheduler set it (undefined: it set none). */
  visibleGpus?: string;
  /**
   * The Slurm batch job this process runs in: once the job's commands end, its state says whether
   * Slurm ended them (batch-job-state.ts). Without it, only the runner's own SIGTERM says so.
   */
  batchJob?: BatchJob;
  /** How long one heartbeat may wait on the server, ms (default 10 s). */
  pollMs?: number;
  /**
   * The job's assignment, already asked for (`client.runnerAssignment(jobId)`): the caller may
   * start the request before it loads this module, so that the two overlap. Default: asked here.
   */
  assignment?: Promise<Assignment>;
  /**
   * Called when the server has refused the runner's token (replaced or deleted) and the job,
   * aborted, has had a moment to end: its end cannot be reported, so nothing is left to wait for.
   */
  onRefused?: () => void;
}

/** Run the job to its end; resolves with the last status this process reported (undefined: none). */
export async function runOneShot(options: OneShotOptions): Promise<JobStatus | undefined> {
  const { client, jobId, logger } = options;
  const assignment = await (options.assignment ?? client.runnerAssignment(jobId));
  // The server hands out a job only to the runner it is assigned to, so this is the token's own
  // runner name: no round trip to ask (each one before the commands start is on the job's latency).
  const name = assignment.job.runner ?? (await client.health()).caller;
  const { status } = assignment.job;
  // A stop or abort that came between Slurm starting the job and now: nothing has run.
  if (status === 'STOPPING' || status === 'ABORTING') {
    const to = status === 'STOPPING' ? 'STOPPED' : 'ABORTED';
    await client.transition(jobId, { from: status, to, reason: `${to === 'STOPPED' ? 'stopped' : 'aborted'} by user` });
    return client.last;
  }
  if (status !== 'DOWNLOADING') {
    logger.error(`job ${jobId} is ${status} already: another runner process has it`);
    return undefined;
  }
  assignment.job.gpus = visibleGpus(options.visibleGpus, assignment);
  const run = new JobRun(
    {
      client,
      executor: options.executor,
      workRoot: options.workRoot,
      logger,
      baseEnv: options.baseEnv,
      stopGraceMs: options.stopGraceMs,
      commandsEnded: async () => {
        if (options.batchJob && (await endedBySlurm(options.batchJob, run.id, logger)))
          await terminated(client, run, options);
      },
    },
    assignment,
  );

  const heartbeat = new AbortController();
  // Held from the signal on: Slurm's scancel signals the job's processes as well as this one.
  const onTerm = () => client.holdReportsUntil(terminated(client, run, options));
  process.on('SIGTERM', onTerm);
  const beating = heartbeatLoop(client, name, run, heartbeat.signal, options);
  try {
    await run.run();
  } finally {
    heartbeat.abort();
    process.off('SIGTERM', onTerm);
    await beating;
  }
  return client.silenced ? undefined : client.last;
}

export async function heartbeatLoop(
  client: RunnerClient,
  name: string,
  run: JobRun,
  signal: AbortSignal,
  options: OneShotOptions,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const commands = await client.heartbeat({ name, jobIds: [run.id], waitMs: options.pollMs ?? 10_000 }, signal);
      for (const c of commands) if (c.jobId === run.id) run.request(c.action, c.graceMs, c.reason);
      // The server answers at once while a stop is pending, and once the job has ended (then the
      // loop is being aborted: the pause must not hold the process, and the Slurm job, open).
      if (commands.length > 0) await pause(200, signal);
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof UnauthorizedError) return refused(name, run, signal, options);
      options.logger.warn('heartbeat failed; retrying', { error: String(e) });
      await pause(1000, signal);
    }
  }
}

/**
 * The token this job was handed no longer works: the server has failed the job already
 * (`runner token replaced`), and every report of this process is refused. The job is aborted,
 * as the runner agent aborts its jobs, rather than run on unseen until Slurm cancels it.
 */
async function refused(name: string, run: JobRun, signal: AbortSignal, options: OneShotOptions): Promise<void> {
  options.logger.error(`${refusedTokenMessage(name)}. Aborting job ${run.id}, which the server has failed already`);
  run.request('abort');
  // Its last reports are retried for minutes, in vain: once the abort has had its moment, the process ends.
  if (await pause(REFUSED_ABORT_MS, signal)) options.onRefused?.();
}

/**
 * The grace period of a job that Slurm is ending, at most: Slurm SIGKILLs the whole batch job
 * KillWait after its SIGTERM (30 s by default), and the artifacts' upload must fit after it.
 */
export const SLURM_ENDING_GRACE_MS = 10_000;

/**
 * SIGTERM: a dstack stop or abort when the job carries one (it keeps its stop request while
 * it saves artifacts, so a late signal is no news); otherwise Slurm is ending the job, which
 * the runner stops as `dstack stop` does, with a grace period short enough to save it in time.
 */
async function terminated(client: ReportingClient, run: JobRun, options: OneShotOptions): Promise<void> {
  const graceMs = Math.min(options.stopGraceMs, SLURM_ENDING_GRACE_MS);
  let job: Assignment['job'];
  try {
    // One request: a user's stop under way is kept and said so; otherwise the job stops now.
    job = await client.stopOwnJob(run.id, { reason: SLURM_ENDED, graceMs });
  } catch (e) {
    if (e instanceof ConflictError) return; // it has ended already
    // The server cannot be told: whatever ends the job, the server hears it from Slurm.
    options.logger.warn(`job ${run.id}: SIGTERM from Slurm, and the server cannot be told (${String(e)})`);
    client.silenced = true;
    return run.request('stop', graceMs);
  }
  if (!job.stopRequest) return; // its work is done (UPLOADING): the upload goes on while Slurm lets it
  if (job.reason === SLURM_ENDED)
    options.logger.warn(`job ${run.id}: SIGTERM from Slurm (time limit, preemption or scancel); stopping the job`);
  run.request(job.stopRequest, job.stopGraceMs);
}

/**
 * Whether Slurm ended the job's commands: its SIGTERM may reach them before this process
 * (batch-job-state.ts). When squeue cannot say, the runner's own SIGTERM is all there is.
 */
async function endedBySlurm(batchJob: BatchJob, jobId: string, logger: Logger): Promise<boolean> {
  const state = await batchJobEnding(batchJob);
  if (state.ending === undefined)
    logger.warn(`job ${jobId}: cannot tell whether Slurm is ending batch job ${batchJob.id} (${state.error})`);
  return state.ending === true;
}

/**
 * The GPUs the cluster gave this job, numbered as the job sees them: Slurm sets
 * CUDA_VISIBLE_DEVICES for the gres it allocated, and the job's environment must keep that.
 */
export function visibleGpus(variable: string | undefined, assignment: Assignment): GpuInfo[] {
  const assigned = assignment.job.gpus ?? [];
  const ids =
    variable === undefined
      ? Array.from({ length: assignment.job.spec.resources.gpu }, (_, i) => String(i))
      : variable.split(',').filter((v) => v.trim() !== '');
  return ids.map((id, i) => ({
    index: /^\d+$/.test(id.trim()) ? Number(id) : i,
    name: assigned[i]?.name ?? 'GPU',
    memory: assigned[i]?.memory ?? 0,
  }));
}
