/**
 * Hashing and uploading a scanned folder in one read per file (a runner saving artifacts).
 * Small files the hash cache does not know are read straight into their place in a pack
 * buffer and hashed there (a file job: on a worker thread for a big pack), and the pack is
 * sent with the entries the server lacks: each file is read once, not once to hash and
 * again to send. Files whose digest is known already (the cache: a re-save) and big files
 * (hashed first) go through uploadFiles, except those `stored` says the server has (the
 * server checks them again with the manifest). The runner inside the server stores new
 * files itself, in one read each (ApiClient.localStore): big ones one at a time, small ones in
 * batches on worker threads, with no pack, no upload plan and no request.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { LocalStore } from '../client/client-options.js';
import type { ApiClient } from '../client/api-client.js';
import { SMALL_BLOB } from '../core/blob-api.js';
import { forEachLimit } from '../core/concurrency.js';
import type { ManifestEntry } from '../core/records.js';
import type { HashCache } from './hash-cache.js';
import { readFailure } from './file-jobs.js';
import { fileJob } from './file-workers.js';
import { forgetHashed, rememberHashed } from './hashed-here.js';
import { hashScanned, type Scanned } from './manifest.js';
import { BLOCK, entryHeader, padding } from './pack.js';
import type { StoredDigests } from './stored-digests.js';
import {
  CONCURRENCY,
  packsOf,
  tracker,
  type TransferOptions,
  type TransferProgress,
  type TransferStats,
} from './transfer-parts.js';
import { uploadFiles } from './transfer.js';

/** A batch of small files for a store on this machine: over a megabyte goes to a worker, and several batches keep the workers busy. */
const LOCAL_BATCH = { entries: 256, bytes: 4 << 20 };

/**
 * Give every scanned file its digest and make sure the server stores its content. Entries
 * get their digests in place; returns what was sent.
 */
export async function uploadScanned(
  client: ApiClient,
  root: string,
  scanned: readonly Scanned[],
  cache: HashCache | undefined,
  options: TransferOptions & { stored?: StoredDigests } = {},
): Promise<TransferStats & { skipped: number }> {
  const stored = options.stored;
  const fresh: Required<Scanned>[] = [];
  const local: Required<Scanned>[] = [];
  let skipped = 0;
  const known: ManifestEntry[] = [];
  await forEachLimit(scanned, 6, async (s) => {
    if (!s.info) return; // a link or a folder: nothing to store
    const cached = cache?.get(s.entry.path, s.info);
    if (cached !== undefined) {
      s.entry.digest = cached;
      if (stored?.has(cached)) return void skipped++;
    } else if (s.entry.size < SMALL_BLOB) return void fresh.push(s as Required<Scanned>);
    else if (client.localStore) return void local.push(s as Required<Scanned>);
    else await hashScanned(root, s, cache); // big: hashed (on a worker thread), then sent one per request
    known.push(s.entry);
  });
  const stats: TransferStats = { files: 0, bytes: 0, requests: 0 };
  const add = (s: TransferStats) => {
    stats.files += s.files;
    stats.bytes += s.bytes;
    stats.requests! += s.requests ?? 0;
  };
  const track = tracker(
    fresh.length + local.length,
    [...fresh, ...local].reduce((n, s) => n + s.entry.size, 0),
    options,
  );
  const onFile = (n: number) => track.file(n);
  const packs = (limits?: { entries: number; bytes: number }) =>
    packsOf(
      fresh.map((s) => ({ s, size: s.entry.size })),
      limits,
    ).map((pack) => pack.map((p) => p.s));
  const { localStore } = client;
  const going = () => options.signal?.throwIfAborted();
  if (localStore) {
    // The runner inside the server: each file goes into its store on local disk in one read,
    // big ones one at a time, small ones in batches (no pack, no request).
    await forEachLimit(local, CONCURRENCY, async (file) => {
      going();
      add(await storeBig(localStore, root, file, cache, onFile));
    });
    await forEachLimit(packs(LOCAL_BATCH), CONCURRENCY, async (files) => {
      going();
      add(await storeSmall(localStore, root, files, cache, onFile));
    });
  } else {
    // Pack buffers are reused within this save: a fresh 32 MiB buffer a pack tripled the GC time of a big save.
    const buffers: Buffer[] = [];
    await forEachLimit(packs(), CONCURRENCY, async (files) => {
      going();
      add(await readHashSend(client, root, files, cache, buffers, onFile, options.retries));
    });
  }
  for (const s of [...fresh, ...local]) stored?.add(s.entry.digest!);
  add(await uploadFiles(client, root, known, after(track.progress, options)));
  for (const e of known) stored?.add(e.digest!);
  return { ...stats, skipped };
}

/** `options` for a second phase whose progress goes on from `first`'s, one count for the whole save. */
function after(first: TransferProgress, options: TransferOptions): TransferOptions {
  const { onProgress } = options;
  if (!onProgress) return options;
  return {
    ...options,
    onProgress: (p) =>
      onProgress({
        files: first.files + p.files,
        bytes: first.bytes + p.bytes,
        totalFiles: first.totalFiles + p.totalFiles,
        totalBytes: first.totalBytes + p.totalBytes,
      }),
  };
}

/** A big file into a store on this machine, hashed and copied in one read. */
async function storeBig(
  store: LocalStore,
  root: string,
  { entry, info }: Required<Scanned>,
  cache: HashCache | undefined,
  onFile: (bytes: number) => void,
): Promise<TransferStats> {
  const hashedAt = Date.now();
  const put = await store.putFile(join(root, entry.path), entry.size);
  if (put.failure) throw readFailure(entry.path, put.failure);
  entry.digest = put.digest!;
  cache?.set(entry.path, info, entry.digest, hashedAt);
  onFile(entry.size);
  return put.stored ? { files: 1, bytes: entry.size } : { files: 0, bytes: 0 };
}

/** A batch of small files into a store on this machine, each read whole once, hashed and written. */
async function storeSmall(
  store: LocalStore,
  root: string,
  files: readonly Required<Scanned>[],
  cache: HashCache | undefined,
  onFile: (bytes: number) => void,
): Promise<TransferStats> {
  const put = await store.putFiles(files.map(({ entry }) => ({ path: join(root, entry.path), size: entry.size })));
  const sent = { files: 0, bytes: 0 };
  put.digests.forEach((digest, i) => {
    const { entry, info } = files[i]!;
    entry.digest = digest;
    cache?.set(entry.path, info, digest, put.hashedAt[i]!);
    onFile(entry.size);
    if (!put.stored[i]) return;
    sent.files++;
    sent.bytes += entry.size;
  });
  if (put.failure) throw readFailure(files[put.failure.index]!.entry.path, put.failure);
  return sent;
}

/** One pack's worth of files: read into place, hashed, and the ones the server lacks sent. */
async function readHashSend(
  client: ApiClient,
  root: string,
  files: readonly Required<Scanned>[],
  cache: HashCache | undefined,
  /** Free buffers to take one from, and to give it back to once the server is done with it. */
  buffers: Buffer[],
  onFile: (bytes: number) => void,
  retries: TransferOptions['retries'],
): Promise<TransferStats> {
  const offsets: number[] = [];
  let total = 0;
  for (const { entry } of files) {
    offsets.push(total);
    total += BLOCK + entry.size + padding(entry.size);
  }
  // Unpooled, and shared so that a worker can read into it (file-workers.ts): no other Buffer shares this memory (see hashed-here.ts).
  const free = buffers.findIndex((b) => b.length >= total + 2 * BLOCK);
  const buf = free >= 0 ? buffers.splice(free, 1)[0]! : Buffer.from(new SharedArrayBuffer(total + 2 * BLOCK));
  const read = await fileJob({
    op: 'read-hash',
    buffer: buf.buffer,
    files: files.map(({ entry }, i) => ({ path: join(root, entry.path), at: offsets[i]! + BLOCK, size: entry.size })),
  });
  read.digests.forEach((digest, i) => {
    const { entry, info } = files[i]!;
    entry.digest = digest;
    cache?.set(entry.path, info, digest, read.hashedAt[i]!);
    onFile(entry.size);
  });
  if (read.failure) {
    buffers.push(buf);
    throw readFailure(files[read.failure.index]!.entry.path, read.failure);
  }
  const sent = new Set<string>();
  const plan = await client.planUploads(
    files.map(({ entry }) => ({ digest: entry.digest!, size: entry.size })),
    retries,
  );
  const missing = new Set(plan.missing.map((m) => m.digest));
  // Entries the server lacks, moved down over the others (never over bytes still to move).
  let end = 0;
  let bytes = 0;
  for (let i = 0; i < files.length; i++) {
    const { entry } = files[i]!;
    if (!missing.has(entry.digest!) || sent.has(entry.digest!)) continue;
    sent.add(entry.digest!);
    const from = offsets[i]! + BLOCK;
    if (from !== end + BLOCK) buf.copyWithin(end + BLOCK, from, from + entry.size);
    entryHeader(entry.digest!, entry.size).copy(buf, end);
    buf.fill(0, end + BLOCK + entry.size, end + BLOCK + entry.size + padding(entry.size));
    rememberHashed(buf.subarray(end + BLOCK, end + BLOCK + entry.size), entry.digest!);
    end += BLOCK + entry.size + padding(entry.size);
    bytes += entry.size;
  }
  if (sent.size === 0) {
    buffers.push(buf);
    return { files: 0, bytes: 0, requests: 1 };
  }
  buf.fill(0, end, end + 2 * BLOCK); // end of archive
  try {
    // A plain Uint8Array: a Buffer chunk would be copied on its way into a web stream (transfer.ts).
    const body = new Uint8Array(buf.buffer, buf.byteOffset, end + 2 * BLOCK);
    await client.retry(
      () => client.putPack(Readable.from([body])),
      undefined,
      'POST /api/blobs/pack',
      undefined,
      retries,
    );
  } finally {
    forgetHashed(buf.buffer);
  }
  // Reused only after a pack the server answered: it stores every entry before it answers.
  buffers.push(buf);
  return { files: sent.size, bytes, requests: 2 };
}
