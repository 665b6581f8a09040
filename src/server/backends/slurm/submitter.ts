/**
 * Handing a claimed job to Slurm: a folder for this submission in the shared work dir with the
 * runner token (0600), then `sbatch`; the Slurm job id is recorded before anything else happens to it.
 */
import { rm, writeFile } from 'node:fs/promises';
import { entryPoint } from '../../../cli/entry-points.js';
import { pause } from '../../../core/concurrency.js';
import type { JobRecord } from '../../../core/records.js';
import { shellQuote } from '../../../core/variables.js';
import type { Logger } from '../../../logger.js';
import type { Engine } from '../../engine.js';
import { attemptDir, batchSubmission, tokenFile, type BatchOptions } from './batch.js';
import { noNodeEverFits } from './capacity.js';
import type { SlurmBackendOptions } from './options.js';
import type { TrackedJobs } from './tracked-jobs.js';
import { SlurmUnreachableError, type SlurmCommands, type SlurmNode } from './types.js';
import { makeFolder } from '../../../files/make-folder.js';

/**
 * How long a submission tries an unreachable slurmctld again before its job fails: a
 * controller's restart or failover must not fail every job submitted meanwhile.
 */
export const UNREACHABLE_RETRY = { forMs: 5 * 60_000, firstMs: 1000, maxMs: 30_000 };

/**
 * The command line that runs this dstack on a node of a cluster that shares its install: the
 * one-shot runner's own entry point, which skips the rest of the CLI's start-up (it takes the
 * `runner exec …` that follows as `dstack` would).
 */
export function defaultDstackCommand(): string {
  const main = entryPoint('runner-exec-main.js');
  return `${shellQuote(process.execPath)} ${shellQuote(main)}`;
}

export interface SubmitterDeps {
  engine: Engine;
  slurm: SlurmCommands;
  tracked: TrackedJobs;
  options: SlurmBackendOptions & { serverUrl: string };
  /** The runner token each batch job gets a copy of, until `SlurmSubmitter.token` is set. */
  token: string;
  /** The partition's nodes as last read. */
  nodes: () => readonly SlurmNode[];
  logger: Logger;
  retry?: typeof UNREACHABLE_RETRY;
}

export class SlurmSubmitter {
  private readonly actor: string;
  /** Ends the waits between tries when the backend closes. */
  private readonly closed = new AbortController();
  /** The runner token each batch job gets a copy of: replaced with `dstack runners token`. */
  token: string;

  constructor(private readonly deps: SubmitterDeps) {
    this.actor = `runner:${deps.options.name}`;
    this.token = deps.token;
  }

  /** Submit a job the scheduler gave this runner (it is DOWNLOADING); a job Slurm cannot take ends FAILED, saying why. */
  async submit(job: JobRecord): Promise<void> {
    const { options, slurm, tracked, logger } = this.deps;
    // By every node, down and drained ones too: one that only such a node could run waits for it in
    // Slurm's queue (docs/slurm.md), rather than fail for the nodes up now.
    const problem = noNodeEverFits(job.spec.resources, this.deps.nodes());
    if (problem) return this.endUnsubmitted(job.id, `slurm: ${problem}`);
    const dir = attemptDir(options.workDir, job.id, Date.now());
    await makeFolder(dir, 0o700);
    await writeFile(tokenFile(dir), this.token, { mode: 0o600 });
    let slurmId: string;
    let noted = false;
    const retry = this.deps.retry ?? UNREACHABLE_RETRY;
    for (let delay = retry.firstMs, since = Date.now(); ; delay = Math.min(2 * delay, retry.maxMs)) {
      try {
        slurmId = await slurm.submit(batchSubmission(job, dir, this.batchOptions()));
        break;
      } catch (e) {
        const message = (e as Error).message;
        const again = e instanceof SlurmUnreachableError && Date.now() - since + delay <= retry.forMs;
        // Said in the job's reason while it waits; a stop or an abort meanwhile ends it as asked.
        const waiting = again && (await this.note(job.id, `slurm: ${message}; trying again in ${delay / 1000} s`));
        noted ||= waiting;
        if (!waiting) {
          logger.warn(`sbatch failed for job ${job.id}`, { error: message });
          await rm(dir, { recursive: true, force: true });
          return this.endUnsubmitted(job.id, `slurm: ${message}`);
        }
        if (!(await pause(delay, this.closed.signal))) return; // closing: the next start fails it as never submitted
      }
    }
    if (noted) await this.note(job.id, null);
    await tracked.put({ jobId: job.id, slurmId, submittedAt: Date.now(), dir });
    logger.info(`job ${job.id} (${job.workflow}) submitted as slurm job ${slurmId}`);
  }

  close(): void {
    this.closed.abort();
  }

  /** Set a DOWNLOADING job's reason; false when it is DOWNLOADING no more (a stop came). */
  private async note(id: string, reason: string | null): Promise<boolean> {
    return (await this.deps.engine.update(id, 'DOWNLOADING', { reason })).ok;
  }

  /** End a job that never reached Slurm: FAILED, or as asked when a stop or abort came meanwhile. */
  private async endUnsubmitted(id: string, reason: string): Promise<void> {
    const { engine } = this.deps;
    const job = await engine.store.getJob(id);
    if (job?.status === 'STOPPING') await engine.transition(id, job.status, 'STOPPED', {}, this.actor);
    else if (job?.status === 'ABORTING') await engine.transition(id, job.status, 'ABORTED', {}, this.actor);
    else if (job?.status === 'DOWNLOADING') await engine.transition(id, job.status, 'FAILED', { reason }, this.actor);
  }

  private batchOptions(): BatchOptions {
    const o = this.deps.options;
    return {
      serverUrl: o.serverUrl,
      dstackCommand: o.dstackCommand ?? defaultDstackCommand(),
      squeue: o.paths.squeue,
      extraArgs: o.sbatchArgs,
      ...(o.partition ? { partition: o.partition } : {}),
      ...(o.account ? { account: o.account } : {}),
    };
  }
}
