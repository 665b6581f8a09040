/**
 * A progress bar for downloads (`dstack artifacts --output`): bytes, rate and files, on
 * stderr, only when stderr is a terminal (a pipe or a log file gets no bar).
 */
import { SingleBar } from 'cli-progress';
import { formatSize } from '../core/resources.js';
import type { TransferProgress } from '../files/transfer.js';

export interface ProgressDisplay {
  onProgress?: (p: TransferProgress) => void;
  stop(): void;
}

export function transferProgress(
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressDisplay {
  if (!stream.isTTY) return { stop: () => {} };
  const start = now();
  const bar = new SingleBar({
    stream,
    format: '{bar} {percentage}% | {done} of {size} | {rate}/s | {files}/{totalFiles} files',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    // Redraws are throttled by cli-progress itself (fps), however often progress is reported.
    fps: 10,
  });
  let started = false;
  const payload = (p: TransferProgress) => ({
    done: formatSize(p.bytes),
    size: formatSize(p.totalBytes),
    rate: formatSize(Math.round((p.bytes * 1000) / Math.max(1, now() - start))),
    files: p.files,
    totalFiles: p.totalFiles,
  });
  return {
    onProgress(p) {
      if (!started) {
        bar.start(Math.max(1, p.totalBytes), 0, payload(p));
        started = true;
      }
      bar.update(p.bytes, payload(p));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
