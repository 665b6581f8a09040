/**
 * The jobs a log follower reports, kept current from the engine's `job` events rather than
 * re-read from the store on every change: a change costs the changed job, not the run.
 * Each job's JSON is kept once made, so the `jobs` event (the whole list) is a join of the
 * changed jobs' JSON with the rest, not a stringify; a follower that sends no `jobs` events
 * makes none.
 */
import { isFinished } from '../../core/job-status.js';
import type { JobRecord } from '../../core/records.js';

/**
 * A cached job shows the log of the job it reuses. One that joined a running job shows its
 * own until that job is DONE: if that job fails, it runs itself, and a follower that had been
 * shown the other job's lines under its id would take its own for lines it had seen already.
 */
export const logOf = (job: JobRecord): string =>
  job.cachedFrom !== undefined && job.status === 'DONE' ? job.cachedFrom : job.id;

export class FollowedJobs {
  private jobs: JobRecord[] = [];
  /** Each job's JSON, once asked for; undefined after the job changed. */
  private json: (string | undefined)[] = [];
  private readonly position = new Map<string, number>();
  private unfinished = 0;
  /** Whether a status or reason changed since `takeStatusChange`. */
  private statusChanged = true;

  constructor(records: readonly JobRecord[]) {
    this.reset(records);
  }

  /** Replace every record (a fresh read from the store); the next `takeStatusChange` is true. */
  reset(records: readonly JobRecord[]): void {
    this.jobs = [...records];
    this.json = [];
    this.position.clear();
    this.jobs.forEach((j, i) => this.position.set(j.id, i));
    this.unfinished = this.jobs.filter((j) => !isFinished(j.status)).length;
    this.statusChanged = true;
  }

  /** Apply a newer record of a followed job; records of other jobs are ignored. */
  apply(record: JobRecord): void {
    const i = this.position.get(record.id);
    if (i === undefined) return;
    const old = this.jobs[i]!;
    if (old.status !== record.status || (old.reason ?? null) !== (record.reason ?? null)) this.statusChanged = true;
    this.unfinished += (isFinished(record.status) ? 0 : 1) - (isFinished(old.status) ? 0 : 1);
    this.jobs[i] = record;
    this.json[i] = undefined;
  }

  /** Whether a status or reason changed since `takeStatusChange`, leaving it to be taken. */
  statusPending(): boolean {
    return this.statusChanged;
  }

  /** True once after any status or reason changed (or after a reset). */
  takeStatusChange(): boolean {
    const changed = this.statusChanged;
    this.statusChanged = false;
    return changed;
  }

  allFinished(): boolean {
    return this.unfinished === 0;
  }

  /** `JSON.stringify` of the records, in their order. */
  toJson(): string {
    return `[${this.jobs.map((job, i) => (this.json[i] ??= JSON.stringify(job))).join(',')}]`;
  }

  /**
   * For each log in `logs`, the first followed job (in order) that shows it, sorted by
   * position; logs no job shows now are left out.
   */
  showing(logs: ReadonlySet<string>): JobRecord[] {
    if (logs.size === 0) return [];
    const first = new Map<string, number>();
    for (const log of logs) {
      const own = this.position.get(log);
      // A job shows its own log unless it reuses another's; otherwise look for jobs that reuse it.
      if (own !== undefined && logOf(this.jobs[own]!) === log) first.set(log, own);
    }
    if (first.size < logs.size) {
      this.jobs.forEach((j, i) => {
        const log = logOf(j);
        if (logs.has(log) && !first.has(log)) first.set(log, i);
      });
    }
    return [...first.values()].sort((a, b) => a - b).map((i) => this.jobs[i]!);
  }
}
