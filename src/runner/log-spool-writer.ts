/**
 * What a LogShipper writes to its spool file (spool-file.ts). The spool is for a runner that
 * crashes: entries go there as they are read, and are sent from memory whether or not they
 * could be written. An append the disk refuses (full) leaves its entries to memory alone: the
 * runner's log says so once, and the spool is tried again a second later for the entries read
 * then. A full disk must not hold a job's log, and with it the job's end and the space its
 * workspace takes, which only that end gives back.
 *
 * The job's unfinished lines (output read without its newline yet) go with each append, as a
 * record the next supersedes (log-spool.ts: `unfinishedRecord`), so a chatty job costs no
 * write more than its entries do. Output that adds no entry (a prompt, a progress bar, a line
 * written a byte at a time) is spooled at once, and then at most every UNFINISHED_EVERY_MS
 * while it keeps coming: each such write holds the whole unfinished line.
 */
import type { LogEntry } from '../core/records.js';
import { spoolRecord, unfinishedRecord, type UnfinishedLine } from './log-spool.js';
import { SpoolFile } from './spool-file.js';

/** After a failed append, the spool is not tried again for this long, ms. */
export const SPOOL_RETRY_MS = 1000;
/** Unfinished lines that grow without new entries are spooled at most this often, ms. */
export const UNFINISHED_EVERY_MS = 50;

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
  /** The file's last record says the unfinished lines as they are now. */
  private unfinishedWritten = true;
  private unfinishedAt = 0;
  private unfinishedTimer: NodeJS.Timeout | undefined;

  constructor(
    path: string,
    /** The unfinished lines now, as the partial entries they would be sent as (none: empty). */
    private readonly unfinished: () => UnfinishedLine[],
    /** Told of a spool the disk refuses (SpoolUnwritable, once a failing streak) and of other failures. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.file = new SpoolFile(path);
  }

  /** The next entries read (in order, none given before), with the unfinished lines after them; never throws. */
  add({ entries, bytes }: SpoolEntries): void {
    if (entries.length === 0) return;
    this.unfinishedWritten = false;
    const inFile = this.append(spoolRecord(entries, bytes), entries.length);
    const last = this.runs.at(-1);
    if (last?.inFile === inFile) last.count += entries.length;
    else this.runs.push({ count: entries.length, inFile });
  }

  /** The unfinished lines changed and no entry came with them: spooled now, or within UNFINISHED_EVERY_MS. */
  unfinishedChanged(): void {
    this.unfinishedWritten = false;
    if (this.unfinishedTimer) return;
    const wait = this.unfinishedAt + UNFINISHED_EVERY_MS - Date.now();
    if (wait <= 0) return this.writeUnfinished();
    this.unfinishedTimer = setTimeout(() => {
      this.unfinishedTimer = undefined;
      if (!this.unfinishedWritten) this.writeUnfinished();
    }, wait);
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
      this.unfinishedWritten = false;
      this.onError(e);
    }
  }

  /** What it holds stays on disk for resendSpool. */
  close(): void {
    clearTimeout(this.unfinishedTimer);
    this.unfinishedTimer = undefined;
    this.file.close();
  }

  private writeUnfinished(): void {
    this.unfinishedAt = Date.now();
    this.append([], 0);
  }

  /** Append `record` of `count` entries and the unfinished lines; false when the disk refused it. */
  private append(record: Buffer[], count: number): boolean {
    if (Date.now() < this.retryAt) return false;
    const unfinished = this.unfinished();
    try {
      this.file.append(record, count, unfinished.length > 0 ? unfinishedRecord(unfinished, Date.now()) : undefined);
    } catch (e) {
      this.retryAt = Date.now() + SPOOL_RETRY_MS;
      if (!this.failing) this.onError(new SpoolUnwritable(this.file.path, e));
      this.failing = true;
      return false;
    }
    this.failing = false;
    this.unfinishedWritten = true;
    return true;
  }
}
