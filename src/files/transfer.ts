/**
 * Moving manifests' files between a folder and the server's blob store. Only blobs the
 * server lacks are sent. Small files travel in packs (one request for many); big ones one
 * per request, straight to storage (S3 presigned URLs) when the server hands out URLs.
 * Downloads (download.ts) are checked against their digests before they count as written;
 * they are a module apart, so that a `dstack run`, which only uploads, does not load them.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ApiClient } from '../client/api-client.js';
import { SMALL_BLOB, type UploadPlan } from '../core/blob-api.js';
import { forEachLimit } from '../core/concurrency.js';
import type { ManifestEntry } from '../core/records.js';
import { directPut } from './direct-http.js';
import {
  CONCURRENCY,
  counter,
  type Counts,
  packsOf,
  PLAN_BATCH,
  tracker,
  type TransferOptions,
  type TransferStats,
} from './transfer-parts.js';

export type { TransferOptions, TransferProgress, TransferStats } from './transfer-parts.js';

/** Upload the blobs of `entries` that the server does not have yet. */
export async function uploadFiles(
  client: ApiClient,
  root: string,
  entries: readonly ManifestEntry[],
  options: TransferOptions = {},
): Promise<TransferStats> {
  const byDigest = new Map<string, ManifestEntry>();
  for (const e of entries) if (e.digest) byDigest.set(e.digest, e);
  const blobs = [...byDigest.values()].map((e) => ({ digest: e.digest!, size: e.size }));
  let requests = 0;
  const missing: UploadPlan['missing'] = [];
  for (let i = 0; i < blobs.length; i += PLAN_BATCH) {
    missing.push(...(await client.planUploads(blobs.slice(i, i + PLAN_BATCH), options.retries)).missing);
    requests++;
  }
  const entryOf = (digest: string) => byDigest.get(digest)!;
  const path = (digest: string) => join(root, entryOf(digest).path);
  const totalBytes = missing.reduce((n, m) => n + entryOf(m.digest).size, 0);
  const track = tracker(missing.length, totalBytes, options);

  const small = missing.filter((m) => !m.put && entryOf(m.digest).size < SMALL_BLOB);
  const big = missing.filter((m) => m.put || entryOf(m.digest).size >= SMALL_BLOB);
  const tasks: { what: string; run: (counts: Counts) => Promise<void> }[] = [
    ...big.map((m) => ({
      what: `upload of ${entryOf(m.digest).path}${m.put ? ' to storage' : ''}`,
      run: async (counts: Counts) => {
        const size = entryOf(m.digest).size;
        const stream = createReadStream(path(m.digest)).pipe(counter((n) => counts.bytes(n)));
        if (m.put) await directPut(m.put, stream, size);
        else await client.putBlob(m.digest, stream);
        requests++;
        counts.file();
      },
    })),
    ...packsOf(small.map((m) => ({ name: m.digest, path: path(m.digest), size: entryOf(m.digest).size }))).map(
      (pack) => ({
        what: 'POST /api/blobs/pack',
        run: async (counts: Counts) => {
          // Built whole (at most PACK_BYTES), files read straight into place several at a time. The
          // packer (tar's header) loads only when there is something to pack: a `dstack run` whose
          // code the server has already uploads nothing, and a module is a few ms of its start.
          const { buildPack } = await import('./pack.js');
          const body = await buildPack(pack, (n) => counts.file(n));
          // One plain Uint8Array in an object-mode stream: turning a stream into a web stream copies
          // every Buffer chunk (not other typed arrays), which would copy each pack once more.
          await client.putPack(Readable.from([new Uint8Array(body.buffer, body.byteOffset, body.length)]));
          requests++;
        },
      }),
    ),
  ];
  // A task dropped with its connection starts over (a runner's client retries; the CLI's does not).
  await forEachLimit(
    tasks,
    CONCURRENCY,
    (task) => (
      options.signal?.throwIfAborted(),
      client.retry(() => track.attempt(task.run), undefined, task.what, undefined, options.retries)
    ),
  );
  return { files: missing.length, bytes: totalBytes, requests };
}
