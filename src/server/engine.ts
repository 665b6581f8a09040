/**
 * The engine: the server's state changes, in one place. Every job transition goes
 * through `transition`, which applies it as a guarded update, tells whoever waits
 * (log followers, long-polling runners) and carries out its consequences: a job that
 * ends badly fails the jobs waiting on it, and a finished job may free work.
 */
import { EventEmitter } from 'node:events';
import { isFinished, type JobStatus, type TransitionResult } from '../core/job-status.js';
import type { JobRecord } from '../core/records.js';
import type { Logger } from '../logger.js';
import type { BlobStore } from './storage/blob-store.js';
import type { LogStore } from './storage/log-store.js';
import type { Store, TransitionPatch } from './store/store.js';

export interface EngineParts {
  store: Store;
  blobs: BlobStore;
  logs: LogStore;
  logger: Logger;
}

export class Engine {
  /** `job` (JobRecord) after every transition or job update; `work` when a runner may find something to claim. */
  readonly events = new EventEmitter();
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly logs: LogStore;
  readonly logger: Logger;

  constructor(parts: EngineParts) {
    ({ store: this.store, blobs: this.blobs, logs: this.logs, logger: this.logger } = parts);
    this.events.setMaxListeners(0);
  }

  async transition(
    id: string,
    from: JobStatus,
    to: JobStatus,
    patch: TransitionPatch,
    actor: string,
  ): Promise<TransitionResult<JobRecord>> {
    const now = Date.now();
    const full: TransitionPatch = { ...patch };
    if (to === 'RUNNING' && full.startedAt === undefined) full.startedAt = now;
    if (isFinished(to) && full.finishedAt === undefined) full.finishedAt = now;
    const result = await this.store.transition(id, from, to, full, actor);
    if (!result.ok) {
      this.logger.debug('transition refused', { job: id, from, to, result: result.reason });
      return result;
    }
    const job = result.value;
    this.logger.info(`job ${id} ${from} -> ${to}`, { run: job.runName, reason: job.reason, actor });
    this.events.emit('job', job);
    if (isFinished(to)) await this.onFinished(job);
    return result;
  }

  /** Update fields of a job without changing its status; followers are told. */
  async update(id: string, expected: JobStatus, patch: TransitionPatch): Promise<TransitionResult<JobRecord>> {
    const result = await this.store.updateJob(id, expected, patch);
    if (result.ok) this.events.emit('job', result.value);
    return result;
  }

  wakeRunners(): void {
    this.events.emit('work');
  }

  private async onFinished(job: JobRecord): Promise<void> {
    if (job.status !== 'DONE') await this.failDependents(job);
    this.wakeRunners();
  }

  /** Jobs waiting on a job that ended badly can never run: they fail, saying why, and so do theirs. */
  private async failDependents(job: JobRecord): Promise<void> {
    const waiting = await this.store.jobsByStatus(['SUBMITTED']);
    const word = job.status === 'STOPPED' ? 'stopped' : job.status === 'ABORTED' ? 'aborted' : 'failed';
    for (const dependent of waiting.filter((j) => j.dependsOn.includes(job.id))) {
      await this.transition(
        dependent.id,
        'SUBMITTED',
        'FAILED',
        { reason: `dependency ${word}: ${job.workflow} (${job.id})` },
        'server',
      );
    }
  }

  /** Wait until `check` returns a value, re-checking on every engine event, for at most `ms`. */
  async waitFor<T>(check: () => Promise<T | undefined>, ms: number, signal?: AbortSignal): Promise<T | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.events.off('job', done);
          this.events.off('work', done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.events.once('job', done);
        this.events.once('work', done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
