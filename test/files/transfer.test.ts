import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import type { ManifestEntry } from '../../src/core/records.js';
import { describeFiles, walk } from '../../src/files/manifest.js';
import { BlobCache } from '../../src/files/blob-cache.js';
import { writePack } from '../../src/files/pack.js';
import { downloadFiles } from '../../src/files/download.js';
import { uploadFiles, type TransferProgress } from '../../src/files/transfer.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { freshDirs } from './fresh-dirs.js';

const freshDir = await freshDirs('dstack-transfer-');

/** 200 small files (a few alike), 3 big ones, an executable and a symlink inside the folder. */
async function makeFolder(): Promise<{ root: string; entries: ManifestEntry[] }> {
  const root = await freshDir();
  for (let i = 0; i < 200; i++) {
    const content = i % 100 === 0 ? 'same content\n' : randomBytes(100 + (i % 7) * 1000);
    await mkdir(join(root, 'small', String(i % 10)), { recursive: true });
    await writeFile(join(root, 'small', String(i % 10), `f${i}.bin`), content);
  }
  for (let i = 0; i < 3; i++) await writeFile(join(root, `big${i}.bin`), randomBytes(2 << 20));
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'run.sh'), 0o755);
  await symlink('big0.bin', join(root, 'latest.bin'));
  const paths = await walk(root);
  return { root, entries: await describeFiles(root, paths) };
}

const digestOf = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

function describeTransfers(name: string, start: () => Promise<TestServer>, direct: boolean) {
  describe(`file transfer through the server, storage on ${name}`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(() => t?.stop());

    it('sends small files in packs, big ones one by one, and nothing the store already has', async () => {
      const { root, entries } = await makeFolder();
      const before = t.server.engine.blobs.stats();
      const first = await uploadFiles(t.client, root, entries);
      const after = t.server.engine.blobs.stats();
      const unique = new Set(entries.flatMap((e) => (e.digest ? [e.digest] : []))).size;
      expect(first.files).toBe(unique);
      // One plan, one pack for every small file, one request per big file.
      expect(first.requests).toBe(1 + 1 + 3);
      if (direct) {
        expect(after.presignedPuts - before.presignedPuts).toBe(3);
        expect(after.blobsWritten - before.blobsWritten).toBe(unique - 3);
      } else expect(after.blobsWritten - before.blobsWritten).toBe(unique);
      expect(await t.client.missingBlobs([...new Set(entries.flatMap((e) => (e.digest ? [e.digest] : [])))])).toEqual(
        [],
      );

      const again = await uploadFiles(t.client, root, entries);
      expect(again).toEqual({ files: 0, bytes: 0, requests: 1 });
      expect(t.server.engine.blobs.stats().bytesWritten).toBe(after.bytesWritten);
    });

    it('downloads every file byte for byte, with its mode and links, verified against its digest', async () => {
      const { root, entries } = await makeFolder();
      await uploadFiles(t.client, root, entries);
      const out = await freshDir();
      const before = t.server.engine.blobs.stats();
      const progress: number[] = [];
      const stats = await downloadFiles(t.client, out, entries, { onProgress: (p) => progress.push(p.files) });
      expect(stats.files).toBe(entries.length);
      // Packs for the small files, one request per big one.
      expect(stats.requests).toBe(1 + 3);
      if (direct) expect(t.server.engine.blobs.stats().presignedGets - before.presignedGets).toBe(3);
      expect(progress.at(-1)).toBe(entries.length - 1); // every regular file; the link is not counted
      for (const e of entries) {
        if (e.link) expect(await readlink(join(out, e.path))).toBe(e.link);
        else {
          expect(await digestOf(join(out, e.path))).toBe(e.digest);
          expect((await stat(join(out, e.path))).mode & 0o777).toBe(e.mode);
        }
      }
      expect((await lstat(join(out, 'latest.bin'))).isSymbolicLink()).toBe(true);
    });

    it('writes a small download (a job code) in place, files over the in-place file size too, with their modes', async () => {
      const root = await freshDir();
      await mkdir(join(root, '.dstack'));
      await writeFile(join(root, '.dstack', 'workflows.yaml'), randomBytes(90_000)); // over SMALL_FILE
      await writeFile(join(root, 'train.sh'), '#!/bin/sh\necho train\n');
      await chmod(join(root, 'train.sh'), 0o750);
      await writeFile(join(root, 'secret.env'), 'A=1\n');
      await chmod(join(root, 'secret.env'), 0o600);
      const entries = await describeFiles(root, await walk(root));
      await uploadFiles(t.client, root, entries);
      const out = await freshDir();
      const stats = await downloadFiles(t.client, out, entries, { cache: new BlobCache(1 << 20) });
      expect(stats.files).toBe(3);
      for (const e of entries) {
        expect(await digestOf(join(out, e.path))).toBe(e.digest);
        expect((await stat(join(out, e.path))).mode & 0o777).toBe(e.mode);
      }
    });

    it('with a blob cache, a second download takes the small files from memory and asks the server only for big ones', async () => {
      const { root, entries } = await makeFolder();
      await uploadFiles(t.client, root, entries);
      const cache = new BlobCache(64 << 20, 1 << 20);
      const first = await downloadFiles(t.client, await freshDir(), entries, { cache });
      expect(first.requests).toBe(1 + 3);
      const small = new Set(entries.flatMap((e) => (e.digest && e.size < 1 << 20 ? [e.digest] : [])));
      expect(cache.size.blobs).toBe(small.size);

      const out = await freshDir();
      const before = t.server.engine.blobs.stats();
      const again = await downloadFiles(t.client, out, entries, { cache });
      expect(again.requests).toBe(3); // the big files only: no pack
      expect(t.server.engine.blobs.stats().blobsRead - before.blobsRead).toBe(direct ? 0 : 3);
      for (const e of entries.filter((f) => !f.link)) {
        expect(await digestOf(join(out, e.path))).toBe(e.digest);
        expect((await stat(join(out, e.path))).mode & 0o777).toBe(e.mode);
      }
    });

    /**
     * A pack whose body ends a little after its end-of-archive blocks (as on a loaded machine),
     * then, once the request is done, a slow download over the same kept-alive socket. The
     * server must read the body to its end: the HTTP layer gives up on a body left unread half
     * a second after the response, and closes the socket under whatever response is on it.
     */
    async function packThenSlowDownload(pack: Buffer): Promise<{ upload: unknown; downloaded: string }> {
      const big = randomBytes(8 << 20);
      const bigDigest = createHash('sha256').update(big).digest('hex');
      await t.client.putBlob(bigDigest, Readable.from([big]));
      const lateEnd = async function* () {
        yield pack;
        await sleep(50);
      };
      const upload = await t.client.putPack(Readable.from(lateEnd())).catch((e: unknown) => e);
      await sleep(100); // the request's end sent: its socket is free for the next request
      const body = await t.client.getBlob(bigDigest);
      await sleep(800);
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      return { upload, downloaded: hash.digest('hex') === bigDigest ? 'whole' : 'damaged' };
    }

    it('a pack upload leaves its connection whole: a slow download on it afterwards is not cut off', async () => {
      const data = randomBytes(1000);
      const name = createHash('sha256').update(data).digest('hex');
      const { upload, downloaded } = await packThenSlowDownload(await buffer(writePack([{ name, data }])));
      expect(upload).toEqual({ stored: 1, bytes: 1000 });
      expect(downloaded).toBe('whole');
    });

    it('a refused pack leaves its connection whole too, and says why', async () => {
      const data = Buffer.from('real content');
      const wrong = createHash('sha256').update('other content').digest('hex');
      const pack = await buffer(
        writePack([
          { name: '../../x', data },
          { name: wrong, data },
        ]),
      );
      const { upload, downloaded } = await packThenSlowDownload(pack);
      expect(String(upload)).toContain("pack entry '../../x' is not a sha256 digest");
      expect(downloaded).toBe('whole');
    });

    it('a pack that goes on after its end-of-archive blocks is refused', async () => {
      const data = randomBytes(1000);
      const name = createHash('sha256').update(data).digest('hex');
      const pack = Buffer.concat([await buffer(writePack([{ name, data }])), Buffer.alloc(100 << 10)]);
      await expect(t.client.putPack(Readable.from([pack]))).rejects.toThrow(
        'pack goes on for more than 65536 bytes after its end',
      );
    });

    it('a pack entry whose content does not match its name is refused, naming it', async () => {
      const data = Buffer.from('real content');
      const wrong = createHash('sha256').update('other content').digest('hex');
      await expect(t.client.putPack(writePack([{ name: wrong, data }]))).rejects.toThrow(
        `blob content does not match its digest (expected ${wrong}`,
      );
      await expect(t.client.putPack(writePack([{ name: '../../x', data }]))).rejects.toThrow(
        "pack entry '../../x' is not a sha256 digest",
      );
      await expect(t.client.putPack(Readable.from([Buffer.alloc(100)]))).rejects.toThrow(
        'pack ends without its end-of-archive blocks',
      );
      expect(await t.client.missingBlobs([wrong])).toEqual([wrong]);
    });

    it('a pack download of a blob that is not stored fails saying which', async () => {
      const root = await freshDir();
      await writeFile(join(root, 'kept.txt'), 'kept');
      await writeFile(join(root, 'lost.txt'), 'lost');
      const entries = await describeFiles(root, ['kept.txt', 'lost.txt']);
      await uploadFiles(t.client, root, entries);
      await t.server.engine.blobs.delete(entries[1]!.digest!);
      await expect(downloadFiles(t.client, await freshDir(), entries)).rejects.toThrow(
        `the server cut off a pack: blob ${entries[1]!.digest} is not stored`,
      );
    });
  });
}

let moto: S3Server;
describeTransfers('local disk', () => startTestServer(), false);
describeTransfers(
  'S3 (moto_server), big files straight to S3',
  async () => {
    moto ??= await startMoto();
    const { bucket } = await createBucket(moto);
    return startTestServer({ storage: `s3://${bucket}/blobs`, s3: moto.settings });
  },
  true,
);
afterAll(() => moto?.stop());

describe('downloads check what they receive', () => {
  it('a blob changed on the server side is refused, not written', async () => {
    const t = await startTestServer();
    try {
      const root = await freshDir();
      await writeFile(join(root, 'model.bin'), randomBytes(3 << 20));
      await writeFile(join(root, 'note.txt'), 'small');
      const entries = await describeFiles(root, ['model.bin', 'note.txt']);
      await uploadFiles(t.client, root, entries);
      for (const e of entries) {
        await writeFile(join(t.dataDir, 'artifacts', e.digest!.slice(0, 2), e.digest!), randomBytes(e.size));
      }
      const out = await freshDir();
      await expect(downloadFiles(t.client, out, [entries[0]!])).rejects.toThrow(
        `downloaded 'model.bin' does not match its digest (expected ${entries[0]!.digest}`,
      );
      await expect(stat(join(out, 'model.bin'))).rejects.toThrow('ENOENT');
      await expect(downloadFiles(t.client, out, [entries[1]!])).rejects.toThrow('does not match its digest');
    } finally {
      await t.stop();
    }
  });
});

describe("downloads from the server's blob folder on this machine", () => {
  let t: TestServer;
  let folder: string;
  let local: Client;
  beforeAll(async () => {
    t = await startTestServer();
    folder = join(t.dataDir, 'artifacts');
    local = new Client({ url: t.server.url, token: t.token, localBlobs: folder });
  });
  afterAll(() => t?.stop());

  /** A copy of the store's folder to change: the server keeps its own blobs whole. */
  const copyOfStore = async () => {
    const copy = join(await freshDir(), 'blobs');
    await cp(folder, copy, { recursive: true });
    return copy;
  };

  it('copies every file from it, with its mode and links, and asks the server for none', async () => {
    const { root, entries } = await makeFolder();
    await uploadFiles(t.client, root, entries);
    const out = await freshDir();
    const before = t.server.engine.blobs.stats();
    const progress: number[] = [];
    const stats = await downloadFiles(local, out, entries, { onProgress: (p) => progress.push(p.files) });
    const regular = entries.filter((e) => !e.link).length;
    expect(stats).toEqual({ files: entries.length, bytes: stats.bytes, requests: 0, copied: regular });
    expect(progress.at(-1)).toBe(regular);
    expect(t.server.engine.blobs.stats().blobsRead).toBe(before.blobsRead);
    for (const e of entries) {
      if (e.link) expect(await readlink(join(out, e.path))).toBe(e.link);
      else {
        expect(await digestOf(join(out, e.path))).toBe(e.digest);
        expect((await stat(join(out, e.path))).mode & 0o777).toBe(e.mode);
      }
    }
  });

  it('fetches from the server what the folder lacks', async () => {
    const { root, entries } = await makeFolder();
    await uploadFiles(t.client, root, entries);
    const copy = await copyOfStore();
    const small = entries.find((e) => e.path === 'small/1/f1.bin')!;
    const big = entries.find((e) => e.path === 'big1.bin')!;
    for (const e of [small, big]) await rm(join(copy, e.digest!.slice(0, 2), e.digest!));
    const out = await freshDir();
    const stats = await downloadFiles(
      new Client({ url: t.server.url, token: t.token, localBlobs: copy }),
      out,
      entries,
    );
    expect(stats.copied).toBe(entries.filter((e) => !e.link).length - 2);
    expect(stats.requests).toBe(2); // a pack for the small one, a request for the big one
    for (const e of [small, big]) expect(await digestOf(join(out, e.path))).toBe(e.digest);
  });

  it('a runner copies small blobs too once there are more of them than its memory of small blobs holds', async () => {
    const { root, entries } = await makeFolder();
    await uploadFiles(t.client, root, entries);
    const regular = entries.filter((e) => !e.link);
    const big = regular.filter((e) => e.size >= 1 << 20).length;
    // A run's code fits its memory: the small blobs are fetched, to be kept there.
    const roomy = await downloadFiles(local, await freshDir(), entries, { cache: new BlobCache(16 << 20) });
    expect(roomy.copied).toBe(big);
    // A dependency's dataset does not: every blob is copied, none asked of the server.
    const out = await freshDir();
    const full = await downloadFiles(local, out, entries, { cache: new BlobCache(64 << 10) });
    expect(full).toMatchObject({ copied: regular.length, requests: 0 });
    for (const e of regular) expect(await digestOf(join(out, e.path))).toBe(e.digest);
  });

  it('replaces a link at a target path rather than copying through it', async () => {
    const root = await freshDir();
    await writeFile(join(root, 'weights.bin'), randomBytes(5000));
    const entries = await describeFiles(root, ['weights.bin']);
    await uploadFiles(t.client, root, entries);
    const out = await freshDir();
    const outside = join(await freshDir(), 'precious');
    await writeFile(outside, 'keep me');
    await symlink(outside, join(out, 'weights.bin'));
    await downloadFiles(local, out, entries);
    expect(await readFile(outside, 'utf8')).toBe('keep me');
    expect((await lstat(join(out, 'weights.bin'))).isFile()).toBe(true);
    expect(await digestOf(join(out, 'weights.bin'))).toBe(entries[0]!.digest);
  });

  it("refuses a blob whose size is not its entry's, naming both", async () => {
    const root = await freshDir();
    await writeFile(join(root, 'model.bin'), randomBytes(3000));
    const [entry] = await describeFiles(root, ['model.bin']);
    await uploadFiles(t.client, root, [entry!]);
    const copy = await copyOfStore();
    await writeFile(join(copy, entry!.digest!.slice(0, 2), entry!.digest!), randomBytes(10));
    const client = new Client({ url: t.server.url, token: t.token, localBlobs: copy });
    await expect(downloadFiles(client, await freshDir(), [entry!])).rejects.toThrow(
      `blob ${entry!.digest} in ${copy} is 10 bytes, not the 3000 of 'model.bin'`,
    );
  });

  it('refuses a digest that is not one before making a path of it', async () => {
    const entry: ManifestEntry = { path: 'x.bin', size: 3, mode: 0o644, digest: '../../../etc/passwd' };
    await expect(downloadFiles(local, await freshDir(), [entry])).rejects.toThrow(
      "not a sha256 digest: '../../../etc/passwd'",
    );
  });
});

describe('an upload that the store fails in mid-body', () => {
  it("is answered with the store's error, and leaves its connection whole for the next request", async () => {
    const t = await startTestServer();
    try {
      // The store makes each shard folder once and remembers it: removed by hand, the next blob in it cannot be written.
      const first = randomBytes(100);
      const digest = createHash('sha256').update(first).digest('hex');
      await t.client.putBlob(digest, first);
      const shard = join(t.dataDir, 'artifacts', digest.slice(0, 2));
      await rm(shard, { recursive: true });
      const big = Readable.from(
        (function* () {
          for (let i = 0; i < 16; i++) yield randomBytes(64 << 10); // 1 MiB: the client reuses the connection
        })(),
      );
      // The URL's digest decides the shard; the content is never read far enough to be checked against it.
      const other = `${digest.slice(0, 2)}${'0'.repeat(62)}`;
      await expect(t.client.putBlob(other, big)).rejects.toThrow(`blob folder ${shard} vanished; retry the upload`);
      // Destroying the request (as the store's stream did) reset the kept-alive connection under
      // the next request: "cannot reach the dstack server … ECONNRESET".
      expect(await t.client.missingBlobs([digest])).toEqual([digest]); // it went with its folder
    } finally {
      await t.stop();
    }
  });
});

describe('progress of a transfer whose requests are retried', () => {
  /**
   * `fetch` that drops the first try of each blob request: an upload once its body has gone,
   * a download after the first chunk of its answer (a server restarted mid-transfer).
   */
  function dropsFirstTries(): typeof fetch {
    const tried = new Set<string>();
    return async (url, init) => {
      const key = `${init?.method ?? 'GET'} ${String(url)}`;
      const first = /\/api\/blobs\/(pack|[0-9a-f]{64})/.test(String(url)) && !tried.has(key);
      tried.add(key);
      if (!first) return fetch(url, init);
      if (init?.body instanceof ReadableStream) {
        for await (const _ of init.body as ReadableStream<Uint8Array>); // sent whole, and counted
        throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
      }
      const response = await fetch(url, init);
      const reader = response.body!.getReader();
      let chunks = 0;
      const cut = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await reader.read();
          if (done || chunks++ > 0) {
            await reader.cancel();
            return controller.error(new TypeError('terminated'));
          }
          controller.enqueue(value);
        },
      });
      return new Response(cut, { status: response.status, headers: response.headers });
    };
  }

  it('counts each file and byte once, up to the totals and no further', async () => {
    const t = await startTestServer();
    try {
      const { root, entries } = await makeFolder();
      let retries = 0;
      const client = new Client({
        url: t.server.url,
        token: t.token,
        fetch: dropsFirstTries(),
        retry: { forMs: 30_000, onRetry: () => retries++ },
      });
      const check = (seen: TransferProgress[]) => {
        const last = seen.at(-1)!;
        expect([last.files, last.bytes]).toEqual([last.totalFiles, last.totalBytes]);
        expect(Math.max(...seen.map((p) => p.bytes))).toBe(last.totalBytes);
        expect(Math.max(...seen.map((p) => p.files))).toBe(last.totalFiles);
      };
      const uploaded: TransferProgress[] = [];
      await uploadFiles(client, root, entries, { onProgress: (p) => void uploaded.push(p) });
      expect(retries).toBe(1 + 3); // the pack and the big files
      check(uploaded);
      const downloaded: TransferProgress[] = [];
      await downloadFiles(client, await freshDir(), entries, { onProgress: (p) => void downloaded.push(p) });
      expect(retries).toBeGreaterThanOrEqual(4 + 3); // the big files, and the pack when its answer is long enough
      check(downloaded);
    } finally {
      await t.stop();
    }
  });
});
