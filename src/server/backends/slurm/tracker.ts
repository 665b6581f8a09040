/**
 * Following submitted jobs in Slurm: once a tick, ask Slurm about every tracked job, then
 * carry out what `decide` says for each (reasons, scancel, endings Slurm decided).
 */
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { JobRecord } from '../../../core/records.js';
import type { Logger } from '../../../logger.js';
import type { Engine } from '../../engine.js';
import { jobDir, outputFile } from './batch.js';
import { decide, type Action } from './reconcile.js';
import type { TrackedJob, TrackedJobs } from './tracked-jobs.js';
import type { SlurmCommands, SlurmJobState } from './types.js';

export interface TrackerDeps {
  engine: Engine;
  slurm: SlurmCommands;
  tracked: TrackedJobs;
  workDir: string;
  defaultGraceMs: number;
  logger: Logger;
  /** Who the job events name as having made a change. */
  actor: string;
}

export class SlurmTracker {
  private lastError: string | undefined;

  constructor(private readonly deps: TrackerDeps) {}

  /** One pass over every tracked job. A failed Slurm query changes nothing: it is retried next tick. */
  async tick(now = Date.now()): Promise<void> {
    const { tracked, slurm, engine, logger } = this.deps;
    const list = tracked.all();
    if (list.length === 0) return;
    let states: Map<string, SlurmJobState>;
    try {
      states = await slurm.states(list.map((t) => t.slurmId));
      if (this.lastError) logger.info('Slurm answers again');
      this.lastError = undefined;
    } catch (e) {
      const message = (e as Error).message;
      if (message !== this.lastError) logger.warn(`cannot read the Slurm queue: ${message}`);
      this.lastError = message;
      return;
    }
    // Slurm first, then dstack: a runner that Slurm shows as ended has made all its reports.
    for (const t of list) {
      const job = await engine.store.getJob(t.jobId);
      const actions = decide({
        tracked: t,
        job,
        slurm: states.get(t.slurmId),
        now,
        defaultGraceMs: this.deps.defaultGraceMs,
        outputFile: outputFile(this.dirOf(t), t.slurmId),
      });
      try {
        await this.apply(t, job, actions, now);
      } catch (e) {
        logger.warn(`tracking slurm job ${t.slurmId} (dstack job ${t.jobId}) failed; retrying`, {
          error: (e as Error).message,
        });
      }
    }
  }

  private async apply(t: TrackedJob, job: JobRecord | undefined, actions: Action[], now: number): Promise<void> {
    const { engine, slurm, tracked, logger, actor } = this.deps;
    // The job was resumed and submitted again while this tick waited on Slurm: its new record rules.
    if (tracked.get(t.jobId)?.slurmId !== t.slurmId) return;
    let record = t;
    // The status this tick leaves the job in: one that ends FAILED without its commands' exit code
    // (Slurm ended it, its runner died, erred or was refused) keeps its output file (cleanUp).
    let status = job?.status;
    for (const action of actions) {
      switch (action.kind) {
        case 'reason':
          if (job) await engine.update(job.id, job.status, { reason: action.reason });
          break;
        case 'end': {
          if (!job) break;
          if (!(await this.runsCurrentAttempt(t))) {
            // Resumed since this Slurm job ran it: its end is no news of the job.
            if (await tracked.remove(t.jobId, t.slurmId)) await this.cleanUp(t, false);
            return;
          }
          const result = await engine.transition(job.id, job.status, action.to, { reason: action.reason }, actor);
          if (!result.ok) return; // the runner moved it meanwhile: look again next tick
          status = action.to;
          break;
        }
        case 'signal':
          logger.info(`stopping slurm job ${t.slurmId} (dstack job ${t.jobId}): SIGTERM to its runner`);
          await slurm.cancel(t.slurmId, 'TERM');
          record = { ...record, termAt: now };
          await tracked.put(record);
          break;
        case 'cancel':
          logger.info(`cancelling slurm job ${t.slurmId} (dstack job ${t.jobId})`);
          await slurm.cancel(t.slurmId);
          record = { ...record, cancelAt: now };
          await tracked.put(record);
          break;
        case 'ended':
          record = { ...record, endedAt: now };
          await tracked.put(record);
          break;
        case 'forget':
          // A failure its runner reported whole (`exit code 3`) leaves nothing in the output file to read.
          if (await tracked.remove(t.jobId, t.slurmId))
            await this.cleanUp(t, status === 'FAILED' && job?.exitCode === undefined);
          break;
      }
    }
  }

  /**
   * Whether this Slurm job was submitted after the job's latest submission to dstack (a resume
   * is one): a resumed job is SUBMITTED, then claimed again, before its new record replaces this.
   */
  private async runsCurrentAttempt(t: TrackedJob): Promise<boolean> {
    const submissions = (await this.deps.engine.store.events(t.jobId)).filter((e) => e.to === 'SUBMITTED');
    return (submissions.at(-1)?.at ?? 0) <= t.submittedAt;
  }

  private dirOf(t: TrackedJob): string {
    return t.dir ?? jobDir(this.deps.workDir, t.jobId);
  }

  /** A submission that failed short of its runner's report keeps Slurm's output file for a post-mortem; everything else goes. */
  private async cleanUp(t: TrackedJob, failed: boolean): Promise<void> {
    const dir = this.dirOf(t);
    if (failed) {
      await rm(join(dir, 'token'), { force: true });
      await rm(join(dir, 'work'), { recursive: true, force: true });
      return;
    }
    await rm(dir, { recursive: true, force: true });
    // The job's folder goes with its last submission's; one that another submission still uses stays.
    if (t.dir) await rmdir(dirname(dir)).catch(() => {});
  }
}
