/**
 * Big files straight to and from S3 (presigned URLs) when storage misbehaves: a hung endpoint,
 * a refusal, an expired URL, a connection cut after much was sent. A fault proxy in front of a
 * moto of this test's own fails the presigned requests; the server's own S3 requests pass.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { InvalidError, UnavailableError } from '../../src/core/errors.js';
import { directGet, directPut } from '../../src/files/direct-http.js';
import { describeFiles, walk } from '../../src/files/manifest.js';
import { uploadFiles } from '../../src/files/transfer.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../services/s3-faults.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { freshDirs } from './fresh-dirs.js';

const freshDir = await freshDirs('dstack-direct-');

let moto: S3Server;
let proxy: FaultProxy;
let t: TestServer;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  const { bucket } = await createBucket(moto);
  t = await startTestServer({ storage: `s3://${bucket}/blobs`, s3: { endpoint: proxy.endpoint, region: 'us-east-1' } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await proxy?.stop();
  await moto?.stop();
});

/** Faults for the presigned (direct) requests, in turn; the last one stays; the server's own requests pass. */
function directFaults(...faults: Fault[]): { method: string; url: string }[] {
  const direct: { method: string; url: string }[] = [];
  proxy.fault = (method, url) => {
    if (!url.includes('X-Amz-Signature=')) return 'pass';
    direct.push({ method, url });
    return faults[Math.min(direct.length, faults.length) - 1]!;
  };
  return direct;
}

async function bigFile(size: number) {
  const root = await freshDir();
  await writeFile(join(root, 'checkpoint.bin'), randomBytes(size));
  return { root, entries: await describeFiles(root, await walk(root)) };
}

/** A runner's client: it retries what fails through an outage, for `forMs`. */
const retryingClient = (forMs: number) => new Client({ url: t.server.url, token: t.token, retry: { forMs } });

describe('direct transfers to S3', () => {
  it('a storage that takes the connection and never answers fails the transfer within its idle time, naming it', async () => {
    directFaults('hang');
    const target = { url: `${proxy.endpoint}/b/k?X-Amz-Signature=x`, headers: {} };
    const started = Date.now();
    const put = directPut(target, Readable.from([Buffer.alloc(1000)]), 1000, { idleMs: 500 });
    await expect(put).rejects.toThrow(
      new UnavailableError(`upload to ${proxy.endpoint} failed: no data moved for 0.5 s`),
    );
    await expect(directGet(target, { idleMs: 500 })).rejects.toThrow(
      `download from ${proxy.endpoint} failed: no data moved for 0.5 s`,
    );
    // Before, both waited for good.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a refusal names S3's code and message, not its body (the access key id), and is not tried again", async () => {
    const direct = directFaults({ status: 403, code: 'AccessDenied', message: 'Access Denied' });
    const { root, entries } = await bigFile(2 << 20);
    const error = await uploadFiles(retryingClient(5000), root, entries).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(InvalidError);
    expect(error?.message).toBe(`upload to ${proxy.endpoint} failed with HTTP 403 (AccessDenied: Access Denied)`);
    expect(error?.message).not.toContain('AKIA');
    expect(direct).toHaveLength(1);
  });

  it('an upload whose presigned URL expired asks for a new one and goes through', async () => {
    const direct = directFaults({ status: 403, code: 'AccessDenied', message: 'Request has expired' }, 'pass');
    const { root, entries } = await bigFile(2 << 20);
    const before = t.server.engine.blobs.stats().presignedPuts;
    await uploadFiles(retryingClient(5000), root, entries);
    expect(direct.map((d) => d.method)).toEqual(['PUT', 'PUT']);
    expect(t.server.engine.blobs.stats().presignedPuts - before).toBe(2); // the retry's URL is a new one
    expect(await t.client.missingBlobs([entries[0]!.digest!])).toEqual([]);
  });

  it('a big upload cut off after much was sent is tried again, however long that took', async () => {
    // The first try sends 34 MiB and is cut off after the client's whole retry window (200 ms).
    const direct = directFaults({ cutAfter: 34 << 20, delayMs: 600 }, 'pass');
    const { root, entries } = await bigFile(40 << 20);
    await uploadFiles(retryingClient(200), root, entries);
    expect(direct).toHaveLength(2);
    expect(await t.client.missingBlobs([entries[0]!.digest!])).toEqual([]);
  });

  it('an upload cut off before it moved much gives up once its retry window is over, naming the storage', async () => {
    directFaults({ cutAfter: 1 << 20, delayMs: 600 });
    const { root, entries } = await bigFile(4 << 20);
    const error = await uploadFiles(retryingClient(200), root, entries).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error?.message).toMatch(
      new RegExp(`^cannot reach storage at ${proxy.endpoint}: (socket hang up|read ECONNRESET)$`),
    );
  });
});
