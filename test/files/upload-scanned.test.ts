import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { HashCache } from '../../src/files/hash-cache.js';
import { scanArtifact } from '../../src/files/manifest.js';
import { writePack } from '../../src/files/pack.js';
import { StoredDigests } from '../../src/files/stored-digests.js';
import type { TransferProgress } from '../../src/files/transfer-parts.js';
import { uploadScanned } from '../../src/files/upload-scanned.js';
import { createApp } from '../../src/server/app.js';
import { LocalBlobStore } from '../../src/server/storage/local-blob-store.js';
import { ServerKey } from '../../src/server/crypto.js';
import { inProcessFetch } from '../../src/server/in-process-fetch.js';
import { startTestServer, type TestServer } from '../services/server.js';

const work = await mkdtemp(join(tmpdir(), 'dstack-upload-scanned-'));
afterAll(() => rm(work, { recursive: true, force: true }));
let dirs = 0;
const LONG_AGO = new Date('2020-01-01T00:00:00Z');
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** `out/` with 30 small files (two alike), one big, a link; written long ago (the hash cache keeps them). */
async function folder(): Promise<{ root: string; contents: Map<string, Buffer> }> {
  const root = join(work, `f${++dirs}`);
  await mkdir(join(root, 'out', 'sub'), { recursive: true });
  const contents = new Map<string, Buffer>();
  for (let i = 0; i < 30; i++)
    contents.set(`out/sub/s${i}`, i < 2 ? Buffer.from(`twin ${dirs}`) : randomBytes(1 + i * 997));
  contents.set('out/big', randomBytes(3 << 20));
  for (const [path, data] of contents) {
    await writeFile(join(root, path), data);
    await utimes(join(root, path), LONG_AGO, LONG_AGO);
  }
  return { root, contents };
}

describe('hashing and uploading a scanned folder in one read a file', () => {
  let t: TestServer;
  let inProcess: Client;
  beforeAll(async () => {
    t = await startTestServer();
    // As the embedded runner reaches its server: the app's handler, no socket.
    const app = createApp(t.server.engine, ServerKey.forDataDir(t.dataDir));
    inProcess = new Client({ url: 'http://in-process', token: t.token, fetch: inProcessFetch(app) });
  });
  afterAll(() => t?.stop());

  it('gives every file its digest and stores each blob once; over HTTP the server hashes every entry', async () => {
    const { root, contents } = await folder();
    const scanned = (await scanArtifact(root, 'out'))!;
    const before = t.server.engine.blobs.stats();
    const sent = await uploadScanned(t.client, root, scanned, new HashCache());
    const after = t.server.engine.blobs.stats();
    expect(Object.fromEntries(scanned.map((s) => [s.entry.path, s.entry.digest]))).toEqual(
      Object.fromEntries([...contents].map(([path, data]) => [path, sha(data)])),
    );
    expect(sent).toMatchObject({ files: 30, bytes: [...contents.values()].reduce((n, d) => n + d.length, 0) - 6 });
    expect(after.blobsWritten - before.blobsWritten).toBe(30);
    expect(after.blobsHashedHere - before.blobsHashedHere).toBe(0);
    for (const data of contents.values()) {
      expect(Buffer.compare(await t.server.engine.blobs.getBytes!(sha(data), 16 << 20), data)).toBe(0);
    }
  });

  it('counts progress once for the whole save: the big files go on from the small ones', async () => {
    const { root, contents } = await folder();
    const scanned = (await scanArtifact(root, 'out'))!;
    const seen: TransferProgress[] = [];
    await uploadScanned(t.client, root, scanned, new HashCache(), { onProgress: (p) => seen.push(p) });
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.files).toBeGreaterThanOrEqual(seen[i - 1]!.files);
      expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes);
    }
    const total = [...contents.values()].reduce((n, d) => n + d.length, 0);
    expect(seen.at(-1)).toEqual({ files: 31, totalFiles: 31, bytes: total, totalBytes: total });
  });

  it('in-process, the server stores the packed files without hashing them again', async () => {
    const { root } = await folder();
    const scanned = (await scanArtifact(root, 'out'))!;
    const before = t.server.engine.blobs.stats();
    await uploadScanned(inProcess, root, scanned, new HashCache());
    const after = t.server.engine.blobs.stats();
    // 29 distinct small files went packed (hashed here); the big one streamed, and the server hashed it.
    expect(after.blobsWritten - before.blobsWritten).toBe(30);
    expect(after.blobsHashedHere - before.blobsHashedHere).toBe(29);
  });

  it('in-process with a store on local disk, files go into it straight in one read each, with no request', async () => {
    const { root, contents } = await folder();
    const store = t.server.engine.blobs as LocalBlobStore;
    const stored: string[] = [];
    const batches: number[] = [];
    const client = new Client({
      url: 'http://in-process',
      token: t.token,
      fetch: inProcessFetch(createApp(t.server.engine, ServerKey.forDataDir(t.dataDir))),
      localStore: {
        putFile: async (path, size) => {
          stored.push(path);
          return store.putFile(path, size);
        },
        putFiles: async (files) => {
          batches.push(files.length);
          return store.putFiles(files);
        },
      },
    });
    const scanned = (await scanArtifact(root, 'out'))!;
    const before = store.stats();
    const sent = await uploadScanned(client, root, scanned, new HashCache());
    // The big file alone; the 30 small ones in one batch, the twins stored once.
    expect(stored).toEqual([join(root, 'out/big')]);
    expect(batches).toEqual([30]);
    expect(sent).toMatchObject({ files: 30, requests: 0 });
    expect(store.stats().blobsWritten - before.blobsWritten).toBe(30);
    expect(Object.fromEntries(scanned.map((s) => [s.entry.path, s.entry.digest]))).toEqual(
      Object.fromEntries([...contents].map(([path, data]) => [path, sha(data)])),
    );
    for (const data of contents.values()) expect((await buffer(await store.get(sha(data)))).equals(data)).toBe(true);
    // Again, unknown to a new hash cache: each file read and hashed, nothing written.
    const again = await uploadScanned(client, root, (await scanArtifact(root, 'out'))!, new HashCache());
    expect(again).toMatchObject({ files: 0, bytes: 0 });
    expect(store.stats().blobsWritten - before.blobsWritten).toBe(30);
  });

  it('in-process with a store on local disk, a small file gone since the scan fails the save, naming it', async () => {
    const { root } = await folder();
    const store = t.server.engine.blobs as LocalBlobStore;
    const client = new Client({ url: 'http://in-process', token: t.token, localStore: store });
    const scanned = (await scanArtifact(root, 'out'))!;
    await rm(join(root, 'out/sub/s7'));
    await expect(uploadScanned(client, root, scanned, new HashCache())).rejects.toThrow(
      `ENOENT: no such file or directory, open '${join(root, 'out/sub/s7')}'`,
    );
    await writeFile(join(root, 'out/sub/s7'), 'x');
    await expect(uploadScanned(client, root, scanned, new HashCache())).rejects.toThrow(
      'out/sub/s7 shrank while it was being saved',
    );
  });

  it('in-process, a big pack read and hashed on a worker thread is stored without hashing it again', async () => {
    const root = join(work, `f${++dirs}`);
    await mkdir(join(root, 'out'), { recursive: true });
    const contents = Array.from({ length: 40 }, () => randomBytes(100_000)); // 4 MB: over IN_PLACE_BYTES
    await Promise.all(contents.map((data, i) => writeFile(join(root, 'out', `m${i}`), data)));
    const scanned = (await scanArtifact(root, 'out'))!;
    const before = t.server.engine.blobs.stats();
    await uploadScanned(inProcess, root, scanned, new HashCache());
    const after = t.server.engine.blobs.stats();
    expect(after.blobsHashedHere - before.blobsHashedHere).toBe(40);
    for (const [i, data] of contents.entries()) {
      expect(scanned.find((s) => s.entry.path === `out/m${i}`)!.entry.digest).toBe(sha(data));
      expect((await t.server.engine.blobs.getBytes!(sha(data), 1 << 20)).equals(data)).toBe(true);
    }
  });

  it('a file that is gone or shorter when it is read fails the save, naming it', async () => {
    const { root } = await folder();
    const gone = (await scanArtifact(root, 'out'))!;
    await rm(join(root, 'out/sub/s5'));
    await expect(uploadScanned(t.client, root, gone, new HashCache())).rejects.toThrow(
      `ENOENT: no such file or directory, open '${join(root, 'out/sub/s5')}'`,
    );
    const short = (await scanArtifact(root, 'out'))!;
    await writeFile(join(root, 'out/sub/s9'), 'cut');
    await expect(uploadScanned(t.client, root, short, new HashCache())).rejects.toThrow(
      'out/sub/s9 shrank while it was being saved',
    );
  });

  it('in-process, a pack entry that does not match its name is still refused', async () => {
    const pack = writePack([{ name: sha('what it claims'), data: Buffer.from('what it is') }]);
    await expect(inProcess.putPack(pack)).rejects.toThrow(/does not match its digest/);
    expect(await t.server.engine.blobs.size(sha('what it claims'))).toBeUndefined();
  });

  it('a re-save reads only changed files and asks nothing about blobs it has seen stored', async () => {
    const { root } = await folder();
    const cache = new HashCache();
    const stored = new StoredDigests();
    await uploadScanned(t.client, root, (await scanArtifact(root, 'out'))!, cache, { stored });
    await writeFile(join(root, 'out/sub/s7'), 'changed');
    await utimes(join(root, 'out/sub/s7'), LONG_AGO, new Date('2021-01-01T00:00:00Z'));
    const again = (await scanArtifact(root, 'out'))!;
    const sent = await uploadScanned(t.client, root, again, cache, { stored });
    // One pack request and its plan for the changed file; the 30 others (big one included) skipped.
    expect(sent).toEqual({ files: 1, bytes: 7, requests: 2, skipped: 30 });
    expect(again.find((s) => s.entry.path === 'out/sub/s7')!.entry.digest).toBe(sha('changed'));
  });
});
