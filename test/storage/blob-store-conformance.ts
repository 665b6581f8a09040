/**
 * The `BlobStore` conformance suite: local disk, S3 on moto_server and S3 on s3rver all
 * run these same tests, so artifacts behave alike wherever the server keeps them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidError, NotFoundError } from '../../src/core/errors.js';
import { directGet, directPut } from '../../src/files/direct-http.js';
import type { BlobStore } from '../../src/server/storage/blob-store.js';

/** Opens a fresh, empty store; each call must be isolated from the others (a new folder, a new bucket). */
export type OpenBlobStore = () => Promise<BlobStore>;

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function blob(size: number): { data: Buffer; digest: string } {
  const data = randomBytes(size);
  return { data, digest: sha256(data) };
}

/** A stream that sends `head` and then fails, as an upload cut off midway does. */
function cutOff(head: Buffer): Readable {
  return new Readable({
    read() {
      if (this.readableLength === 0 && !(this as { sent?: boolean }).sent) {
        (this as { sent?: boolean }).sent = true;
        this.push(head);
        setTimeout(() => this.destroy(new Error('connection reset')), 10);
      }
    },
  });
}

export function describeBlobStoreConformance(name: string, open: OpenBlobStore): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let store: BlobStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close?.();
    });

    it('missing lists each digest that is not stored, once', async () => {
      const a = blob(10);
      const b = blob(20);
      await store.put(a.digest, Readable.from([a.data]));
      expect(await store.missing([a.digest, b.digest, b.digest])).toEqual([b.digest]);
      expect(await store.missing([])).toEqual([]);
    });

    it('a stored blob reads back byte for byte, with its size, and is listed', async () => {
      const a = blob(100_000);
      const empty = { data: Buffer.alloc(0), digest: sha256(Buffer.alloc(0)) };
      await store.put(a.digest, Readable.from([a.data.subarray(0, 5000), a.data.subarray(5000)]));
      await store.put(empty.digest, Readable.from([empty.data]));
      expect((await buffer(await store.get(a.digest))).equals(a.data)).toBe(true);
      expect((await buffer(await store.get(empty.digest))).length).toBe(0);
      expect(await store.size(a.digest)).toBe(100_000);
      const listed = [];
      for await (const entry of store.list()) listed.push(entry);
      expect(listed.map((e) => e.digest).sort()).toEqual([a.digest, empty.digest].sort());
      const entry = listed.find((e) => e.digest === a.digest)!;
      expect(entry.size).toBe(100_000);
      expect(Math.abs(entry.storedAt - Date.now())).toBeLessThan(10 * 60_000);
    });

    it('a blob bigger than what a put keeps in memory round-trips (multipart on S3)', async () => {
      const big = blob(20 << 20);
      await store.put(big.digest, Readable.from([big.data]));
      expect(sha256(await buffer(await store.get(big.digest)))).toBe(big.digest);
      expect(await store.size(big.digest)).toBe(20 << 20);
    });

    it('content that does not hash to its digest is refused and nothing is stored', async () => {
      const a = blob(1000);
      const other = blob(1000);
      const put = store.put(a.digest, Readable.from([other.data]));
      await expect(put).rejects.toBeInstanceOf(InvalidError);
      await expect(put).rejects.toThrow(`blob content does not match its digest (expected ${a.digest}`);
      expect(await store.missing([a.digest, other.digest])).toEqual([a.digest, other.digest]);
    });

    it('an upload cut off midway leaves nothing stored, and a later put of the blob succeeds', async () => {
      const a = blob(64 * 1024);
      await expect(store.put(a.digest, cutOff(a.data.subarray(0, 1000)))).rejects.toThrow('connection reset');
      expect(await store.size(a.digest)).toBeUndefined();
      const listed = [];
      for await (const entry of store.list()) listed.push(entry);
      expect(listed).toEqual([]);
      await store.put(a.digest, Readable.from([a.data]));
      expect(await store.missing([a.digest])).toEqual([]);
    });

    it('putting a stored blob again, even twice at once, keeps one intact copy', async () => {
      const a = blob(300_000);
      await Promise.all([store.put(a.digest, Readable.from([a.data])), store.put(a.digest, Readable.from([a.data]))]);
      await store.put(a.digest, Readable.from([a.data]));
      expect((await buffer(await store.get(a.digest))).equals(a.data)).toBe(true);
    });

    it('an absent blob: get is NotFoundError, size is undefined, delete is a no-op', async () => {
      const { digest } = blob(1);
      await expect(store.get(digest)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.size(digest)).toBeUndefined();
      await store.delete(digest);
    });

    it('a name that is not a sha256 digest is refused before anything is touched', async () => {
      for (const bad of ['../../etc/passwd', 'ABC', 'a'.repeat(63), 'g'.repeat(64)]) {
        await expect(store.get(bad)).rejects.toBeInstanceOf(InvalidError);
        await expect(store.size(bad)).rejects.toBeInstanceOf(InvalidError);
        await expect(store.put(bad, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(InvalidError);
      }
    });

    it('delete removes a blob', async () => {
      const a = blob(10);
      await store.put(a.digest, Readable.from([a.data]));
      await store.delete(a.digest);
      expect(await store.missing([a.digest])).toEqual([a.digest]);
    });

    it('putMany and getBytes, where a store has them, keep the checks of put and get', async () => {
      if (!store.putMany || !store.getBytes) return; // optional: stores without them are used through streams
      const a = blob(5000);
      const other = blob(5000);
      const [wrong] = await store.putMany([{ digest: a.digest, parts: [other.data] }]);
      expect(wrong?.message).toContain(`blob content does not match its digest (expected ${a.digest}`);
      expect(await store.missing([a.digest, other.digest])).toEqual([a.digest, other.digest]);
      await expect(store.getBytes(a.digest, 1 << 20)).rejects.toBeInstanceOf(NotFoundError);
      // The content as a pack's reader hands it on: the chunks it arrived in; then again, still one intact copy.
      const split = [a.data.subarray(0, 1234), a.data.subarray(1234, 1234), a.data.subarray(1234)];
      expect(
        await store.putMany([
          { digest: a.digest, parts: split },
          { digest: a.digest, parts: [a.data] },
        ]),
      ).toEqual([undefined, undefined]);
      expect((await store.getBytes(a.digest, 1 << 20)).equals(a.data)).toBe(true);
      expect((await buffer(await store.get(a.digest))).equals(a.data)).toBe(true);
      await expect(store.getBytes(a.digest, 4999)).rejects.toThrow('too big for a pack');
      const [escape] = await store.putMany([{ digest: '../../etc/passwd', parts: [a.data] }]);
      expect(escape).toBeInstanceOf(InvalidError);
      await expect(store.getBytes('g'.repeat(64), 10)).rejects.toBeInstanceOf(InvalidError);
      await store.delete(a.digest);
      expect(await store.missing([a.digest])).toEqual([a.digest]);
    });

    it('putMany of a big batch stores each blob or refuses it on its own', async () => {
      if (!store.putMany) return;
      // Over a megabyte in all (a worker thread's job on local disk), in private and in shared memory.
      const blobs = Array.from({ length: 12 }, () => blob(300_000));
      const shared = Buffer.from(new SharedArrayBuffer(300_000));
      blobs[3]!.data.copy(shared);
      const outcomes = await store.putMany([
        ...blobs.map(({ digest, data }, i) => ({ digest, parts: i === 3 ? [shared] : [data] })),
        { digest: blobs[0]!.digest, parts: [blobs[1]!.data] },
      ]);
      expect(outcomes.slice(0, 12)).toEqual(Array(12).fill(undefined));
      expect(outcomes[12]?.message).toContain(`blob content does not match its digest (expected ${blobs[0]!.digest}`);
      for (const { digest, data } of blobs) expect((await buffer(await store.get(digest))).equals(data)).toBe(true);
      expect(await store.missing(blobs.map((b) => b.digest))).toEqual([]);
    });

    it('counts the blobs and bytes it writes and serves', async () => {
      const a = blob(1000);
      const b = blob(3000);
      const before = store.stats();
      await store.put(a.digest, Readable.from([a.data]));
      await store.put(b.digest, Readable.from([b.data]));
      await buffer(await store.get(a.digest));
      const after = store.stats();
      expect(after.blobsWritten - before.blobsWritten).toBe(2);
      expect(after.bytesWritten - before.bytesWritten).toBe(4000);
      expect(after.blobsRead - before.blobsRead).toBe(1);
      expect(after.bytesRead - before.bytesRead).toBe(1000);
    });

    it('with direct access, a presigned PUT stores the blob and a presigned GET reads it', async () => {
      if (!store.direct) {
        expect(store.direct).toBeUndefined(); // local disk: everything streams through the server
        return;
      }
      const a = blob(2 << 20);
      const put = await store.direct.presignPut(a.digest, a.data.length);
      expect(put).toBeDefined();
      await directPut(put!, Readable.from([a.data]), a.data.length);
      expect(await store.size(a.digest)).toBe(a.data.length);
      const get = await store.direct.presignGet(a.digest);
      expect((await buffer(await directGet(get))).equals(a.data)).toBe(true);
      expect(store.stats()).toMatchObject({ presignedPuts: 1, presignedPutBytes: 2 << 20, presignedGets: 1 });
      expect(await store.direct.presignPut(a.digest, 6 * 1024 ** 3)).toBeUndefined(); // over S3's single-PUT limit
    });
  });
}
