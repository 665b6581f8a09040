/**
 * S3 that is down, throttles or hangs, as the server's blob store meets it: an outage the
 * server answers with a 503 naming the bucket and the endpoint (clients wait it out), within a
 * bounded time, never a bug's 500 and never the credentials. A fault proxy in front of a moto
 * of this test's own does the failing.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { StorageFullError, UnavailableError } from '../../src/core/errors.js';
import { mountSmallDisk } from '../fixtures/small-disk.js';
import { createLogger } from '../../src/logger.js';
import { errorAnswer } from '../../src/server/api/http-errors.js';
import { S3BlobStore } from '../../src/server/storage/s3-blob-store.js';
import { createS3Client } from '../../src/server/storage/s3-client.js';
import { startFaultProxy, type FaultProxy } from '../services/s3-faults.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { blob } from './blob-store-conformance.js';

let moto: S3Server;
let proxy: FaultProxy;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

async function openStore(options: { requestMs?: number; outages?: string[]; spoolDir?: string } = {}) {
  const { bucket } = await createBucket(moto);
  proxy.fault = () => 'pass';
  const store = new S3BlobStore(
    createS3Client({ endpoint: proxy.endpoint, region: 'us-east-1' }),
    { bucket, prefix: 'p' },
    {
      endpoint: proxy.endpoint,
      ...(options.spoolDir !== undefined && { spoolDir: options.spoolDir }),
      ...(options.requestMs !== undefined && { requestMs: options.requestMs }),
      onOutage: (message) => options.outages?.push(message),
    },
  );
  return { store, bucket };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
const quiet = createLogger('test', 'error');

describe('S3 storage that fails', () => {
  it('answers 503 (down, throttled) as an outage naming the bucket and endpoint, not a bug, and says so once', async () => {
    const outages: string[] = [];
    const { store, bucket } = await openStore({ outages });
    const a = blob(100);
    await store.put(a.digest, Readable.from([a.data]));
    proxy.fault = () => ({ status: 503, code: 'SlowDown' });
    const where = `S3 bucket '${bucket}' at ${proxy.endpoint}`;

    const head = await failureOf(store.missing([blob(10).digest]));
    expect(head).toBeInstanceOf(UnavailableError);
    // A HEAD's answer has no body: the status is all S3 says. The SDK tried it three times.
    expect(head?.message).toBe(`the artifact storage is unavailable: ${where} answered HTTP 503 (3 tries)`);
    const get = await failureOf(store.get(a.digest));
    expect(get?.message).toBe(`the artifact storage is unavailable: ${where} answered HTTP 503 SlowDown (3 tries)`);
    const b = blob(50);
    const put = await failureOf(store.put(b.digest, Readable.from([b.data])));
    expect(put?.message).toBe(`the artifact storage is unavailable: ${where} answered HTTP 503 SlowDown (3 tries)`);
    // The server's answer: a 503 that clients wait out, without the credentials.
    const answer = errorAnswer(head, quiet);
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toBe(head?.message);
    expect(JSON.stringify(answer)).not.toContain(moto.env.AWS_SECRET_ACCESS_KEY!);
    expect(outages).toEqual([head?.message]); // once, not per request

    proxy.fault = () => ({ status: 500, code: 'InternalError' });
    expect((await failureOf(store.get(a.digest)))?.message).toBe(
      `the artifact storage is unavailable: ${where} answered HTTP 500 InternalError (3 tries)`,
    );
    // Back: the same store works again.
    proxy.fault = () => 'pass';
    expect(await buffer(await store.get(a.digest))).toEqual(a.data);
  });

  it('rides out a 503 now and then with the SDK tries, unseen by its caller', async () => {
    const { store } = await openStore();
    const a = blob(100);
    let n = 0;
    proxy.fault = () => (n++ % 2 === 0 ? { status: 503, code: 'SlowDown' } : 'pass');
    await store.put(a.digest, Readable.from([a.data]));
    expect(await store.missing([a.digest])).toEqual([]);
    expect(await buffer(await store.get(a.digest))).toEqual(a.data);
    expect(n).toBeGreaterThanOrEqual(4);
  });

  it('gives up on an endpoint that takes requests and never answers within its deadline, saying so', async () => {
    const outages: string[] = [];
    const { store, bucket } = await openStore({ requestMs: 1000, outages });
    const a = blob(100);
    await store.put(a.digest, Readable.from([a.data]));
    proxy.fault = () => 'hang';
    const started = Date.now();
    const [head, get, listed, deleted] = await Promise.all([
      failureOf(store.missing([blob(10).digest])),
      failureOf(store.get(a.digest)),
      failureOf(
        (async () => {
          for await (const b of store.list()) void b;
        })(),
      ),
      failureOf(store.delete(a.digest)),
    ]);
    // Before, each took the idle timeout three times over: 99 s measured against a hung endpoint.
    expect(Date.now() - started).toBeLessThan(5000);
    const said = `the artifact storage is unavailable: S3 bucket '${bucket}' at ${proxy.endpoint} gave no answer in 1 s`;
    for (const e of [head, get, listed, deleted]) expect(e?.message).toBe(said);
    expect(errorAnswer(head, quiet).status).toBe(503);
    expect(outages).toEqual([said]);
  });

  it("keeps a GET's body streaming past the deadline, which is for its answer only", async () => {
    const { store } = await openStore({ requestMs: 300 });
    const a = blob(3 << 20);
    await store.put(a.digest, Readable.from([a.data]));
    const body = await store.get(a.digest);
    await sleep(800);
    expect((await buffer(body)).equals(a.data)).toBe(true); // not toEqual: a deep compare of 3 MB takes seconds
  });

  it("names the server's own disk, not the bucket, when the folder a big upload waits in is full", async () => {
    const disk = await mountSmallDisk(12);
    try {
      const { store, bucket } = await openStore({ spoolDir: disk.path });
      const big = blob(20 << 20);
      const error = await failureOf(store.put(big.digest, Readable.from([big.data])));
      expect(error).toBeInstanceOf(StorageFullError);
      expect(error?.message).toBe(
        `the server's disk is full (no space left on device) at ${disk.path}, where an upload to S3 bucket ` +
          `'${bucket}' at ${proxy.endpoint} over 8 MiB is held whole while it is checked: free space there ` +
          '(a blob needs its size free), or move the data folder to a bigger disk',
      );
      expect(errorAnswer(error, quiet).status).toBe(507);
      expect(await readdir(disk.path)).toEqual([]); // its part written is gone
      expect(await store.missing([big.digest])).toEqual([big.digest]);
    } finally {
      await disk.unmount();
    }
  }, 30_000);
});
