/**
 * A job's downloads (its code, its dependencies' artifacts) through the runner's memory of
 * small blobs, shared by its jobs: every job of a run writes the same code files, and every
 * job after a shared step the same small artifacts of it. 16 MiB at most, no blob over 1 MiB.
 */
import type { RetryWatcher } from '../client/retry.js';
import type { RunnerClient } from '../client/runner-client.js';
import type { ManifestEntry } from '../core/records.js';
import { BlobCache } from '../files/blob-cache.js';
import { downloadFiles } from '../files/download.js';
import type { TransferStats } from '../files/transfer.js';

const smallBlobs = new BlobCache(16 << 20);

/**
 * `downloadFiles`, small blobs taken from and kept in the runner's memory; `signal` ends it (the
 * job was stopped); `retries` hears of requests that fail and are retried (files/progress-notes.ts).
 */
export function downloadForJob(
  client: RunnerClient,
  root: string,
  entries: readonly ManifestEntry[],
  signal?: AbortSignal,
  retries?: RetryWatcher,
): Promise<TransferStats> {
  return downloadFiles(client, root, entries, {
    cache: smallBlobs,
    ...(signal && { signal }),
    ...(retries && { retries }),
  });
}
