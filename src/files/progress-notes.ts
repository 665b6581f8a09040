/** Transfer progress as occasional log lines (the runner's artifact uploads): files, bytes, rate, and why it waits. */
import type { RetryWatcher } from '../client/retry.js';
import { formatSize } from '../core/resources.js';
import type { TransferOptions, TransferProgress } from './transfer.js';

/** `12/300 files, 1.2GB of 3.0GB (45MB/s)` */
export function describeProgress(p: TransferProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.bytes * 1000) / elapsedMs : 0;
  return `${p.files}/${p.totalFiles} files, ${formatSize(p.bytes)} of ${formatSize(p.totalBytes)} (${formatSize(Math.round(rate))}/s)`;
}

/**
 * Options for a transfer that note through `note`: `what: <progress>` at most every `everyMs`
 * (default 5 s) and once at the end (a long upload shows it is moving, a short one says little);
 * and, once each time, why it waits (a request that fails and is retried: storage out of reach)
 * and that it goes on. Without them, a job's log said only `0/40 files, 0B of 800MB` every 5 s
 * while the reason was in the runner's log alone.
 */
export function progressNotes(
  what: string,
  note: (text: string) => void,
  everyMs = 5000,
  now: () => number = Date.now,
): Required<Pick<TransferOptions, 'onProgress' | 'retries'>> {
  const start = now();
  let last = start;
  return {
    onProgress: (p) => {
      const t = now();
      const done = p.files === p.totalFiles && p.bytes >= p.totalBytes;
      if (done ? t - start < everyMs : t - last < everyMs) return;
      last = t;
      note(`${what}: ${describeProgress(p, t - start)}`);
    },
    retries: retryNotes(what, note),
  };
}

/**
 * A transfer's retries as log lines through `note`: once why it waits (`what: waiting, retrying:
 * cannot reach storage at …`) and once when it goes on, however many of its requests fail and
 * how often, where the runner's log has each retry.
 */
export function retryNotes(what: string, note: (text: string) => void): RetryWatcher {
  let waiting = false;
  return {
    waiting: (error) => {
      if (waiting) return;
      waiting = true;
      note(`${what}: waiting, retrying: ${error instanceof Error ? error.message : String(error)}`);
    },
    through: () => {
      if (!waiting) return;
      waiting = false;
      note(`${what}: going on`);
    },
  };
}
