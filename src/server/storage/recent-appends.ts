/**
 * The latest appends of the logs being written, kept in memory for their followers: a
 * follower reads an append moments after it is made, and reading it back from the file
 * (a copy into a fresh buffer, parsing its head again) was a good part of the cost of
 * following a chatty job. Bounded by bytes across all logs, oldest out first; a read that
 * is not at the start of a kept append goes to the file.
 */
import type { LogRecord } from './log-scan.js';

/** Bytes of appends kept in all, about: a few of a chatty job's windows, or many quiet jobs' tails. */
const KEEP_BYTES = 16 << 20;

export class RecentAppends {
  /** Per log, its kept appends, consecutive in the file. */
  private readonly logs = new Map<string, LogRecord[]>();
  /** Every kept append, oldest first: what goes out first when the bound is passed. */
  private order: { jobId: string; record: LogRecord }[] = [];
  private bytes = 0;

  constructor(private readonly keepBytes = KEEP_BYTES) {}

  /** Appends just written to `jobId`'s log, in file order. */
  add(jobId: string, records: readonly LogRecord[]): void {
    for (const record of records) {
      const kept = this.logs.get(jobId);
      if (kept && kept[kept.length - 1]!.end !== record.start) this.drop(jobId); // not consecutive: start over
      const list = this.logs.get(jobId) ?? [];
      if (list.length === 0) this.logs.set(jobId, list);
      list.push(record);
      this.order.push({ jobId, record });
      this.bytes += record.end - record.start;
    }
    while (this.bytes > this.keepBytes && this.order.length > 0) {
      const { jobId: oldest, record } = this.order.shift()!;
      const list = this.logs.get(oldest)!; // the oldest kept append of all is its log's first
      list.shift();
      this.bytes -= record.end - record.start;
      if (list.length === 0) this.logs.delete(oldest);
    }
  }

  /** The kept appends of `jobId` from byte `offset` on, when one starts there. */
  from(jobId: string, offset: number): LogRecord[] | undefined {
    const list = this.logs.get(jobId);
    const at = list?.findIndex((r) => r.start === offset) ?? -1;
    return at < 0 ? undefined : list!.slice(at);
  }

  /** Forget a log's appends (it is reopened or deleted). */
  drop(jobId: string): void {
    const list = this.logs.get(jobId);
    if (!list) return;
    for (const record of list) this.bytes -= record.end - record.start;
    this.logs.delete(jobId);
    this.order = this.order.filter((o) => o.jobId !== jobId); // holds no dropped append's memory
  }
}
