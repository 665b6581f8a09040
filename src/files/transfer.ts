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
  retriedPart,
  tracker,
  type TransferOptions,
  type TransferStats,
  type TransferTask,
} from './transfer-parts.js';

/**
 * A presigned upload older than this is asked for again before a try (the URLs last an hour,
 * s3-blob-store.ts): the big files of a large save on a slow link start long after the plan, and
 * S3 refuses an expired URL (403) on every try. A retried try asks anew too.
 */
export const FRESH_PUT_MS = 30 * 60_000;

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
  const plannedAt = Date.now();
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
  const tasks: TransferTask[] = [
    ...big.map((m) => {
      const size = entryOf(m.digest).size;
      let put = m.put;
      let since = plannedAt;
      let tries = 0;
      return {
        what: `upload of ${entryOf(m.digest).path}${m.put ? ' to storage' : ''}`,
        run: async (counts: Counts) => {
          if (put && (tries++ > 0 || Date.now() - since > FRESH_PUT_MS)) {
            const again = (await client.planUploads([{ digest: m.digest, size }])).missing[0];
            requests++;
            since = Date.now();
            if (!again) return counts.file(size); // stored meanwhile (another job's save)
            put = again.put;
          }
          const stream = createReadStream(path(m.digest)).pipe(counter((n) => counts.bytes(n)));
          if (put) await directPut(put, stream, size);
          else await client.putBlob(m.digest, stream);
          requests++;
          counts.file();
        },
      };
    }),
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
    (task) => (options.signal?.throwIfAborted(), retriedPart(client, track, task, undefined, options.retries)),
  );
  return { files: missing.length, bytes: totalBytes, requests };
}
