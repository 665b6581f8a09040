/**
 * One job, in a process of its own (`dstack runner exec`): what a Slurm batch job runs. It
 * fetches the job's assignment, runs it as any runner does (workspace, commands, logs,
 * artifacts, status), and listens for stop and abort through a heartbeat for that job.
 *
 * SIGTERM comes from Slurm: for a dstack stop (`scancel --signal=TERM --batch`) the server
 * says so and the job stops as usual; otherwise Slurm itself is ending the job (time limit,
 * preemption, a cancel by someone else), and the server records the end with Slurm's reason.
 */
import { Client, type ClientOptions } from '../client/client.js';
import type { Assignment, RunnerTransitionRequest } from '../core/api.js';
import { ConflictError } from '../core/errors.js';
import type { JobStatus } from '../core/job-status.js';
import type { GpuInfo } from '../core/resources.js';
import type { Logger } from '../logger.js';
import type { Executor } from './executors/executor.js';
import { JobRun } from './job-run.js';

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
  /** How long one heartbeat may wait on the server, ms (default 10 s). */
  pollMs?: number;
}

/** A client whose reports can be silenced once the job's end is no longer this process's to report. */
export class ReportingClient extends Client {
  silenced = false;
  /** The last status the server accepted from this process. */
  last: JobStatus | undefined;

  constructor(options: ClientOptions) {
    super(options);
  }

  override async transition(
    jobId: string,
    request: RunnerTransitionRequest,
  ): Promise<{ ok: true; job: Assignment['job'] } | { ok: false; actual: JobStatus }> {
    // Answering "already FAILED" makes the job run wind down without reporting anything more.
    if (this.silenced) return { ok: false, actual: 'FAILED' };
    const result = await super.transition(jobId, request);
    if (result.ok) this.last = request.to;
    return result;
  }
}

/** Run the job to its end; resolves with the last status this process reported (undefined: none). */
export async function runOneShot(options: OneShotOptions): Promise<JobStatus | undefined> {
  const { client, jobId, logger } = options;
  const { caller: name } = await client.health();
  const assignment = await client.runnerAssignment(jobId);
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
    },
    assignment,
  );

  const heartbeat = new AbortController();
  const onTerm = () => void terminated(client, run, options);
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

async function heartbeatLoop(
  client: Client,
  name: string,
  run: JobRun,
  signal: AbortSignal,
  options: OneShotOptions,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const commands = await client.heartbeat({ name, jobIds: [run.id], waitMs: options.pollMs ?? 10_000 }, signal);
      for (const c of commands) if (c.jobId === run.id) run.request(c.action, c.graceMs);
      if (commands.length > 0) await sleep(200); // the server answers at once while a stop is pending
    } catch (e) {
      if (signal.aborted) return;
      options.logger.warn('heartbeat failed; retrying', { error: String(e) });
      await sleep(1000);
    }
  }
}

/**
 * SIGTERM: a dstack stop or abort when the job carries one (it keeps its stop request while
 * it saves artifacts, so a late signal is no news); otherwise Slurm is ending the job.
 */
async function terminated(client: ReportingClient, run: JobRun, options: OneShotOptions): Promise<void> {
  let job: Assignment['job'] | undefined;
  try {
    job = (await client.runnerAssignment(run.id)).job;
  } catch (e) {
    if (e instanceof ConflictError) return; // it has ended already
    // The server cannot be asked: whatever ends the job, the server hears it from Slurm.
  }
  if (job?.stopRequest) return run.request(job.stopRequest, job.stopGraceMs);
  options.logger.warn(`job ${run.id}: SIGTERM from Slurm (time limit, preemption or scancel); ending the job`);
  client.silenced = true;
  run.request('stop', options.stopGraceMs);
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
