/**
 * What a LogShipper writes to its spool file (spool-file.ts). The spool is for a runner that
 * crashes: entries go there as they are read, and are sent from memory whether or not they
 * could be written. An append the disk refuses (full) leaves its entries to memory alone: the
 * runner's log says so once, and the spool is tried again a second later for the entries read
 * then. A full disk must not hold a job's log, and with it the job's end and the space its
 * workspace takes, which only that end gives back.
 */
import type { LogEntry } from '../core/records.js';
import { spoolRecord } from './log-spool.js';
import { SpoolFile } from './spool-file.js';

/** After a failed append, the spool is not tried again for this long, ms. */
export const SPOOL_RETRY_MS = 1000;

/** Entries and their output bytes (`bytes[i]` of `entries[i]`). */
export interface SpoolEntries {
  entries: LogEntry[];
  bytes: Buffer[];
}

/** The spool could not be written: the entries read meanwhile are sent from memory only. */
export class SpoolUnwritable extends Error {
  constructor(path: string, cause: unknown) {
    super(
      `the job's log could not be spooled to disk (${path}: ${(cause as Error).message}); its lines are sent ` +
        'from memory, and those not yet sent if the runner dies are lost',
      { cause },
    );
  }
}

export class LogSpoolWriter {
  private readonly file: SpoolFile;
  /** The entries given and not yet acknowledged, oldest first, as runs of those in the file and those left out. */
  private readonly runs: { count: number; inFile: boolean }[] = [];
  /** No append is tried before this time (a failed one was lately). */
  private retryAt = 0;
  /** The last append failed: said once, until one succeeds. */
  private failing = false;

  constructor(
    path: string,
    /** Told of a spool the disk refuses (SpoolUnwritable, once a failing streak) and of other failures. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.file = new SpoolFile(path);
  }

  /** The next entries read (in order, none given before); never throws. */
  add({ entries, bytes }: SpoolEntries): void {
    if (entries.length === 0) return;
    const inFile = this.append(spoolRecord(entries, bytes), entries.length);
    const last = this.runs.at(-1);
    if (last?.inFile === inFile) last.count += entries.length;
    else this.runs.push({ count: entries.length, inFile });
  }

  /** The server has the `count` oldest entries given; never throws. */
  acknowledged(count: number): void {
    let inFile = 0;
    while (count > 0 && this.runs.length > 0) {
      const run = this.runs[0]!;
      const n = Math.min(count, run.count);
      if (run.inFile) inFile += n;
      run.count -= n;
      count -= n;
      if (run.count === 0) this.runs.shift();
    }
    if (inFile === 0) return;
    try {
      this.file.acknowledged(inFile);
    } catch (e) {
      // The file is left as it was: after a crash, entries the server has are sent again and ignored.
      this.onError(e);
    }
  }

  /** What it holds stays on disk for resendSpool. */
  close(): void {
    this.file.close();
  }

  /** Append `record` of `count` entries; false when the disk refused it. */
  private append(record: Buffer[], count: number): boolean {
    if (Date.now() < this.retryAt) return false;
    try {
      this.file.append(record, count);
    } catch (e) {
      this.retryAt = Date.now() + SPOOL_RETRY_MS;
      if (!this.failing) this.onError(new SpoolUnwritable(this.file.path, e));
      this.failing = true;
      return false;
    }
    this.failing = false;
    return true;
  }
}
