/**
 * Blobs: which are missing (with presigned uploads where storage allows), upload one
 * (verified against its digest) or a pack of small ones, download one (or a redirect to
 * storage) or a pack of small ones.
 */
import { IncomingMessage } from 'node:http';
import { finished, PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Hono } from 'hono';
import { SMALL_BLOB, type UploadPlan } from '../../core/blob-api.js';
import { forEachLimit, mapAhead } from '../../core/concurrency.js';
import { InvalidError, NotFoundError } from '../../core/errors.js';
import { hashedHere } from '../../files/hashed-here.js';
import { MAX_PACK_ENTRY, PACK_ERROR, readLimited, readPack, writePackWeb, type PackEntry } from '../../files/pack.js';
import { noteAsked } from '../asked-blobs.js';
import { DIGEST, type BlobBytes, type BlobStore } from '../storage/blob-store.js';
import * as blobSchemas from './blob-schemas.js';
import { clientGone } from './client-gone.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { errorAnswer } from './http-errors.js';
import * as schemas from './schemas.js';
import { body } from './validate.js';

/**
 * A pack's entries go to the store in batches of up to BATCH_ENTRIES or BATCH_BYTES, with
 * BATCHES_IN_FLIGHT being stored while the next is read: on local disk a batch is one file
 * job, on a worker thread once over a megabyte (files/file-workers.ts).
 */
const BATCH_ENTRIES = 256;
const BATCH_BYTES = 4 << 20;
const BATCHES_IN_FLIGHT = 2;
/** Blobs of a batch put at once into a store without `putMany`: S3 puts are latency-bound. */
const PUTS_IN_FLIGHT = 8;

/**
 * The request's body as a Node stream. Served by @hono/node-server, that is the socket's own
 * IncomingMessage (its `env.incoming`): going through the web stream that `req.raw.body` wraps
 * it in, and back, costs more than storing the blobs. Elsewhere (the embedded runner's in-process
 * requests, tests' `app.request`) the web body.
 */
function requestBody(c: { req: { raw: Request }; env: unknown }, what: string): Readable {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof IncomingMessage) return incoming;
  const stream = c.req.raw.body;
  if (!stream) throw new InvalidError(`${what} has no body`);
  return Readable.fromWeb(stream as WebReadableStream<Uint8Array>);
}

/**
 * A socket's body for a store that streams it. A store that fails mid-body (a full disk, a
 * blob folder deleted by hand) destroys what it reads; destroying the request reset its
 * kept-alive connection, and the client's next request on it failed with ECONNRESET. The
 * store reads a stream piped from the request instead, and the unread rest is left to the
 * HTTP layer, which drains it after the answer. A client that goes away still ends the
 * store's read with that error.
 */
function shielded(body: Readable): Readable {
  if (!(body instanceof IncomingMessage)) return body; // in-process: no socket to keep
  const shield = new PassThrough();
  body.pipe(shield); // the shield's end unpipes it, never destroys it
  finished(body, (e) => e && shield.destroy(e));
  return shield;
}

/**
 * Store an upload; a client that goes away mid-body (a killed runner) is an expected end,
 * not a server error: nothing was stored, and it says so rather than logging a stack trace.
 */
async function receiving<T>(what: string, store: () => Promise<T>): Promise<T> {
  try {
    return await store();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((e as Error).message === 'aborted' || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
      throw new InvalidError(`${what} was cut off before its end; nothing of it was kept`, { cause: e });
    }
    throw e;
  }
}

export function blobRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/blobs/missing', async (c) => {
    const { digests } = await body(c, schemas.digests);
    return c.json({ missing: await engine.blobs.missing(digests) });
  });

  app.post('/blobs/uploads', async (c) => {
    const { blobs } = await body(c, blobSchemas.uploadPlan);
    const sizes = new Map(blobs.map((b) => [b.digest, b.size]));
    const direct = engine.blobs.direct;
    noteAsked(engine.blobs, sizes.keys()); // the answer's "stored" must hold until they are named
    const missing = await Promise.all(
      (await engine.blobs.missing([...sizes.keys()])).map(async (digest) => {
        const size = sizes.get(digest)!;
        // Small blobs travel packed through the server; big ones straight to storage when it can take them.
        const put = direct && size >= SMALL_BLOB ? await direct.presignPut(digest, size) : undefined;
        return put ? { digest, put } : { digest };
      }),
    );
    return c.json({ missing } satisfies UploadPlan);
  });

  app.post('/blobs/pack', async (c) => {
    const result = await receiving('pack upload', () => storePack(engine.blobs, requestBody(c, 'pack upload')));
    return c.json(result, 201);
  });

  app.post('/blobs/pack/get', async (c) => {
    const digests = [...new Set((await body(c, blobSchemas.packRequest)).digests)];
    const blobs = engine.blobs;
    async function* entries(): AsyncGenerator<PackEntry> {
      try {
        yield* mapAhead(digests, 16, async (digest) => ({
          name: digest,
          data: blobs.getBytes
            ? await blobs.getBytes(digest, MAX_PACK_ENTRY)
            : await readLimited(await blobs.get(digest), MAX_PACK_ENTRY, `blob ${digest}`),
        }));
      } catch (e) {
        // The response has started: the error goes in the pack, where the client looks for it, as
        // the answer it would have been (an S3 outage a 503's `unreachable … try again`, not the SDK's words).
        const { status, body } = errorAnswer(e, engine.logger);
        yield { name: PACK_ERROR, data: Buffer.from(JSON.stringify({ status, ...body })) };
      }
    }
    return new Response(writePackWeb(entries()), {
      headers: { 'content-type': 'application/x-tar' },
    });
  });

  app.put('/blobs/:digest', async (c) => {
    const digest = c.req.param('digest');
    const content = shielded(requestBody(c, 'blob upload'));
    await receiving(`upload of blob ${digest}`, () => engine.blobs.put(digest, content));
    return c.json({ ok: true }, 201);
  });

  app.get('/blobs/:digest', async (c) => {
    const gone = clientGone(c); // before the awaits: a client may leave during them
    const digest = c.req.param('digest');
    const size = await engine.blobs.size(digest);
    if (size === undefined) throw new NotFoundError(`blob ${digest} is not stored`);
    // `?direct=1`: a client that can fetch from storage itself gets sent there.
    if (c.req.query('direct') === '1' && engine.blobs.direct) {
      return c.redirect((await engine.blobs.direct.presignGet(digest)).url, 307);
    }
    const content = await engine.blobs.get(digest);
    // A client gone before the answer starts never reads nor cancels it (@hono/node-server skips
    // it): its open file (or storage connection) would stay open for as long as the server runs.
    const close = () => content.destroy();
    if (gone.aborted) {
      close();
      return c.body(null, 204);
    }
    gone.addEventListener('abort', close, { once: true });
    finished(content, () => gone.removeEventListener('abort', close));
    return new Response(Readable.toWeb(content) as ReadableStream, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
  });
  return app;
}

/**
 * Store every entry of a pack, each verified against the digest it is named by (or known
 * to be hashed by this very process from the same bytes). Entries go to the store in
 * batches (one file job each on local disk). Entries stored before a failure stay (they are
 * verified); the request fails naming the bad one.
 */
async function storePack(blobs: BlobStore, stream: Readable): Promise<{ stored: number; bytes: number }> {
  const putMany = blobs.putMany?.bind(blobs) ?? ((batch: readonly BlobBytes[]) => putEach(blobs, batch));
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let stored = 0;
  let bytes = 0;
  let batch: BlobBytes[] = [];
  let batchBytes = 0;
  const flush = async () => {
    const entries = batch;
    batch = [];
    batchBytes = 0;
    const task: Promise<void> = putMany(entries)
      .then((outcomes) =>
        outcomes.forEach((e, i) => {
          if (e) return void (failure ??= e);
          stored++;
          bytes += entries[i]!.parts.reduce((n, p) => n + p.length, 0);
        }),
      )
      .catch((e: unknown) => void (failure ??= e))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(inFlight);
  };
  try {
    // Let go of, not destroyed, if the pack is refused: the body is drained and the error answered.
    for await (const entry of readPack(stream.iterator({ destroyOnReturn: false }))) {
      if (!DIGEST.test(entry.name)) throw new InvalidError(`pack entry '${entry.name}' is not a sha256 digest`);
      // Not hashed again only when this process hashed these very bytes (the embedded runner: hashed-here.ts).
      const here = entry.parts.length === 1 && hashedHere(entry.parts[0]!, entry.name);
      batch.push({ digest: entry.name, parts: entry.parts, hashedHere: here });
      batchBytes += entry.size;
      if (batch.length >= BATCH_ENTRIES || batchBytes >= BATCH_BYTES) await flush();
      if (failure) throw failure;
    }
    if (batch.length > 0) await flush();
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return { stored, bytes };
}

/** `putMany` for a store without it (S3): a put each, PUTS_IN_FLIGHT at once. */
async function putEach(blobs: BlobStore, batch: readonly BlobBytes[]): Promise<(Error | undefined)[]> {
  const outcomes: (Error | undefined)[] = [];
  await forEachLimit(batch.keys(), PUTS_IN_FLIGHT, async (i) => {
    const { digest, parts } = batch[i]!;
    outcomes[i] = await blobs.put(digest, Readable.from(parts)).then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
  });
  return Array.from(batch, (_, i) => outcomes[i]);
}
