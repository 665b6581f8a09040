/** Transfer progress as occasional log lines (the runner's artifact uploads): files, bytes, rate. */
import { formatSize } from '../core/resources.js';
import type { TransferProgress } from './transfer.js';

/** `12/300 files, 1.2GB of 3.0GB (45MB/s)` */
export function describeProgress(p: TransferProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.bytes * 1000) / elapsedMs : 0;
  return `${p.files}/${p.totalFiles} files, ${formatSize(p.bytes)} of ${formatSize(p.totalBytes)} (${formatSize(Math.round(rate))}/s)`;
}

/**
 * An `onProgress` that writes `what: <progress>` through `note` at most every `everyMs`
 * (default 5 s) and once at the end: a long upload shows it is moving, a short one says little.
 */
export function progressNotes(
  what: string,
  note: (text: string) => void,
  everyMs = 5000,
  now: () => number = Date.now,
): (p: TransferProgress) => void {
  const start = now();
  let last = start;
  return (p) => {
    const t = now();
    const done = p.files === p.totalFiles && p.bytes >= p.totalBytes;
    if (done ? t - start < everyMs : t - last < everyMs) return;
    last = t;
    note(`${what}: ${describeProgress(p, t - start)}`);
  };
}
