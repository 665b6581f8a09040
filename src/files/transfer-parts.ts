/** What uploads and downloads share: stats and progress, packing, counting streams. */
import type { Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { ApiClient } from '../client/api-client.js';
import { isTransient, type RetryWatcher } from '../client/retry.js';
import { PACK_BYTES, PACK_ENTRIES } from '../core/blob-api.js';

/**
 * Requests in flight at once: enough to fill a fast link with latency, few enough for a
 * small server (each pack in flight holds up to PACK_BYTES in memory on both sides).
 */
export const CONCURRENCY = 4;
/** Digests per upload-plan request. */
export const PLAN_BATCH = 20_000;

export interface TransferStats {
  /** Files (uploads: new blobs) transferred. */
  files: number;
  bytes: number;
  /** HTTP requests made, to the server and to storage (optional: callers sum stats of several transfers). */
  requests?: number;
  /** Downloads: files copied from the server's blob folder on this machine rather than sent (files/local-copy.ts). */
  copied?: number;
  /** Downloads: empty folders made (artifacts keep theirs); absent when none. */
  folders?: number;
}

export interface TransferProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

export interface TransferOptions {
  /** Called as files complete and as big files stream (cumulative counts). */
  onProgress?: (progress: TransferProgress) => void;
  /**
   * Ends the transfer: an upload before its next file or batch (a job aborted while it saves), a
   * download at once (a job stopped while it is prepared).
   */
  signal?: AbortSignal;
  /** Hears of the upload's requests that fail and are retried (a runner's client retries), and of them going through. */
  retries?: RetryWatcher;
}

/** Group blobs into packs of at most PACK_ENTRIES entries and PACK_BYTES bytes (or `limits`). */
export function packsOf<T extends { size: number }>(
  items: readonly T[],
  limits = { entries: PACK_ENTRIES, bytes: PACK_BYTES },
): T[][] {
  const packs: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= limits.entries || bytes + item.size > limits.bytes)) {
      packs.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) packs.push(current);
  return packs;
}

/** Counts bytes as they pass, for progress, and hashes them when given a hash. */
export function counter(onBytes: (n: number) => void, hash?: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash?.update(chunk);
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

/** Counts what a transfer has done: bytes as they stream, files as they complete (with their bytes). */
export interface Counts {
  bytes(n: number): void;
  file(bytes?: number): void;
}

export function tracker(totalFiles: number, totalBytes: number, options: TransferOptions) {
  const progress: TransferProgress = { files: 0, bytes: 0, totalFiles, totalBytes };
  const add = (files: number, bytes: number) => {
    progress.files += files;
    progress.bytes += bytes;
    options.onProgress?.({ ...progress });
  };
  return {
    progress,
    bytes: (n: number) => add(0, n),
    file: (bytes = 0) => add(1, bytes),
    /**
     * Runs one attempt at a part of the transfer (a request that a retry sends again whole)
     * with counts of its own, and takes back what a failed one counted: a retried part counts
     * once, not `808MB of 800MB` after a server restart mid-upload.
     */
    async attempt<T>(part: (counts: Counts) => Promise<T>): Promise<T> {
      let files = 0;
      let bytes = 0;
      try {
        return await part({
          bytes: (n) => {
            bytes += n;
            add(0, n);
          },
          file: (n = 0) => {
            files++;
            bytes += n;
            add(1, n);
          },
        });
      } catch (e) {
        add(-files, -bytes);
        throw e;
      }
    },
  };
}

/**
 * Bytes one try of a part must have moved, before it failed, for the part's retries to start
 * anew: more than the buffers between a sender and a receiver that stopped reading (the socket's,
 * the kernel's on both sides), so that a hung storage, which takes a few MB and then nothing, is
 * not retried for good.
 */
export const PROGRESS_BYTES = 32 << 20;

/** A part of a transfer: one request, sent again whole when it is retried. */
export interface TransferTask {
  what: string;
  run: (counts: Counts) => Promise<void>;
}

/**
 * Runs one part through the client's retries (a runner's client retries; the CLI's does not),
 * counted by `track`. The client's retries last a window from the part's first try; a try that
 * moved PROGRESS_BYTES before it failed starts a new window. Before, a 4 GB checkpoint whose
 * upload failed after 20 minutes of sending was not tried again at all: its window had passed.
 */
export async function retriedPart(
  client: Pick<ApiClient, 'retry' | 'retries'>,
  track: Pick<ReturnType<typeof tracker>, 'attempt'>,
  task: TransferTask,
  signal: AbortSignal | undefined,
  retries: RetryWatcher | undefined,
): Promise<void> {
  for (;;) {
    let moved = 0;
    const attempt = () => {
      moved = 0;
      return track.attempt((counts) =>
        task.run({
          bytes: (n) => {
            moved += n;
            counts.bytes(n);
          },
          file: (n) => counts.file(n),
        }),
      );
    };
    try {
      return await client.retry(attempt, signal, task.what, undefined, retries);
    } catch (e) {
      if (!client.retries || moved < PROGRESS_BYTES || signal?.aborted || !isTransient(e)) throw e;
      retries?.waiting(e, 0, task.what);
    }
  }
}
