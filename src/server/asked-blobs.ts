/**
 * Blobs an upload plan said were stored, lately. The client does not send them, and names them
 * in a manifest or a run it submits once its other uploads are done, minutes later for a big
 * file: a prune meanwhile deleted those that only pruned runs named, and the run was accepted
 * with code no runner could restore. Prune spares a blob asked about since its cutoff for new
 * blobs, as it spares a new one. In memory: one server process answers for a data dir's blobs.
 */
import type { BlobStore } from './storage/blob-store.js';

/** How long an answer is remembered: prune's window for new blobs (prune.ts FRESH_BLOB_MS). */
export const ASKED_KEPT_MS = 60 * 60_000;

/** Per blob store, each digest asked about and when, oldest first. */
const asked = new WeakMap<BlobStore, Map<string, number>>();

/** Note that a plan is about to tell whether these blobs are stored: noted first, so a prune deleting them meanwhile sees it. */
export function noteAsked(store: BlobStore, digests: Iterable<string>, now = Date.now()): void {
  let times = asked.get(store);
  if (!times) asked.set(store, (times = new Map()));
  for (const digest of digests) {
    times.delete(digest); // re-inserted at the end, so the map stays in time order
    times.set(digest, now);
  }
  for (const [digest, at] of times) {
    if (at >= now - ASKED_KEPT_MS) break;
    times.delete(digest);
  }
}

/** Whether an upload plan asked about `digest` at or after `since` (epoch ms). */
export function askedSince(store: BlobStore, digest: string, since: number): boolean {
  return (asked.get(store)?.get(digest) ?? -Infinity) >= since;
}
