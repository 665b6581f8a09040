import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFileJob, shareable, type ReadHashJob } from '../../src/files/file-jobs.js';
import { fileJob, IN_PLACE_BYTES } from '../../src/files/file-workers.js';

const work = await mkdtemp(join(tmpdir(), 'dstack-file-jobs-'));
afterAll(() => rm(work, { recursive: true, force: true }));
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
let dirs = 0;

/** `count` files of `size` random bytes, and a read job that puts them one after another. */
async function files(count: number, size: number): Promise<{ job: ReadHashJob; contents: Buffer[] }> {
  const dir = join(work, `d${++dirs}`);
  await mkdir(dir);
  const contents = Array.from({ length: count }, () => randomBytes(size));
  await Promise.all(contents.map((data, i) => writeFile(join(dir, `f${i}`), data)));
  const job: ReadHashJob = {
    op: 'read-hash',
    buffer: new SharedArrayBuffer(count * size),
    files: contents.map((_, i) => ({ path: join(dir, `f${i}`), at: i * size, size })),
  };
  return { job, contents };
}

describe('file jobs', () => {
  it('read each file into its place and hash it, the same in place and on a worker thread', async () => {
    const small = await files(3, 1000);
    const big = await files(40, 100_000); // over IN_PLACE_BYTES: a worker's
    expect(40 * 100_000).toBeGreaterThan(IN_PLACE_BYTES);
    for (const { job, contents } of [small, big]) {
      const before = Date.now();
      const result = await fileJob(job);
      expect(result.failure).toBeUndefined();
      expect(result.digests).toEqual(contents.map(sha));
      expect(result.hashedAt.every((t) => t >= before && t <= Date.now())).toBe(true);
      expect(Buffer.from(job.buffer as SharedArrayBuffer).equals(Buffer.concat(contents))).toBe(true);
    }
  });

  it('stop at a file that is gone or shorter than its size, saying which and why', async () => {
    const { job } = await files(30, 50_000);
    await rm(job.files[7]!.path);
    const gone = await fileJob(job);
    expect(gone.digests).toHaveLength(7);
    expect(gone.failure).toEqual({
      index: 7,
      error: {
        code: 'ENOENT',
        path: job.files[7]!.path,
        message: `ENOENT: no such file or directory, open '${job.files[7]!.path}'`,
      },
    });
    await writeFile(job.files[7]!.path, 'short');
    expect((await fileJob(job)).failure).toEqual({ index: 7, got: 5 });
  });

  it('refuse a file that became a link since it was scanned, rather than read where it leads', async () => {
    const { job } = await files(2, 1000);
    const secret = join(work, 'secret');
    await writeFile(secret, 'not for artifacts');
    await rm(job.files[1]!.path);
    await symlink(secret, job.files[1]!.path);
    expect((await fileJob(job)).failure).toMatchObject({ index: 1, error: { code: 'ELOOP' } });
    expect(await fileJob({ op: 'hash-file', path: job.files[1]!.path, size: 17 })).toMatchObject({
      failure: { error: { code: 'ELOOP' } },
    });
  });

  it('several big jobs at once all finish, more of them than there are workers', async () => {
    const jobs = await Promise.all(Array.from({ length: 6 }, () => files(12, 100_000)));
    const results = await Promise.all(jobs.map(({ job }) => fileJob(job)));
    results.forEach((r, i) => expect(r.digests).toEqual(jobs[i]!.contents.map(sha)));
  });

  it("hash a file's bytes, and with a store copy them into the blob's place in the same read", async () => {
    const dir = join(work, `s${++dirs}`);
    await mkdir(dir);
    const data = randomBytes(3 << 20); // over IN_PLACE_BYTES: a worker's
    await writeFile(join(dir, 'model.bin'), data);
    const path = join(dir, 'model.bin');
    expect(await fileJob({ op: 'hash-file', path, size: data.length })).toEqual({ digest: sha(data) });
    expect(runFileJob({ op: 'hash-file', path, size: 1000 })).toEqual({ digest: sha(data.subarray(0, 1000)) });
    const folder = join(dir, 'store');
    await mkdir(folder);
    const store = { temp: join(folder, 'in.tmp'), folder };
    expect(await fileJob({ op: 'hash-file', path, size: data.length, store })).toEqual({
      digest: sha(data),
      stored: true,
    });
    const blob = join(folder, sha(data).slice(0, 2), sha(data));
    expect((await readFile(blob)).equals(data)).toBe(true);
    // There already: left as it is, the copy dropped.
    expect(await fileJob({ op: 'hash-file', path, size: data.length, store })).toEqual({
      digest: sha(data),
      stored: false,
    });
    expect((await readdir(folder)).sort()).toEqual([sha(data).slice(0, 2)]);
    // Shorter than its size, or gone: nothing stored, no temp file left.
    expect(await fileJob({ op: 'hash-file', path, size: data.length + 5, store })).toEqual({
      failure: { got: data.length },
    });
    await rm(path);
    expect(await fileJob({ op: 'hash-file', path, size: data.length, store })).toEqual({
      failure: { error: { code: 'ENOENT', path, message: `ENOENT: no such file or directory, open '${path}'` } },
    });
    expect((await readdir(folder)).sort()).toEqual([sha(data).slice(0, 2)]);
  });

  it('store small files under their digests in one read each; one stored already is left, a gone file stops the job', async () => {
    const { job, contents } = await files(40, 100_000); // over IN_PLACE_BYTES: a worker's
    const folder = join(work, `store${++dirs}`);
    const paths = job.files.map((f) => ({ path: f.path, size: f.size }));
    // One of them stored already, and a shard folder removed by hand after a first blob went in.
    const first = await fileJob({ op: 'store-files', files: paths.slice(0, 1), folder, tempPrefix: 'a' });
    expect(first).toEqual({ digests: [sha(contents[0]!)], hashedAt: [expect.any(Number)], stored: [true] });
    const before = Date.now();
    const result = await fileJob({ op: 'store-files', files: paths, folder, tempPrefix: 'b' });
    expect(result.failure).toBeUndefined();
    expect(result.digests).toEqual(contents.map(sha));
    expect(result.stored).toEqual(contents.map((_, i) => i > 0));
    expect(result.hashedAt.every((t) => t >= before && t <= Date.now())).toBe(true);
    for (const data of contents)
      expect((await readFile(join(folder, sha(data).slice(0, 2), sha(data)))).equals(data)).toBe(true);
    // A shard removed by hand is made again; a file gone since its scan stops the job there, naming it.
    await rm(join(folder, sha(contents[1]!).slice(0, 2)), { recursive: true });
    await rm(paths[2]!.path);
    const again = runFileJob({ op: 'store-files', files: paths.slice(1, 4), folder, tempPrefix: 'c' });
    expect(again).toMatchObject({ digests: [sha(contents[1]!)], stored: [true] });
    expect(again.failure).toEqual({
      index: 1,
      error: expect.objectContaining({ code: 'ENOENT', path: paths[2]!.path }),
    });
    expect(existsSync(join(folder, sha(contents[1]!).slice(0, 2), sha(contents[1]!)))).toBe(true);
    // A file shorter than its size: nothing stored for it, and no temp file left anywhere.
    await writeFile(paths[3]!.path, 'short');
    const short = runFileJob({ op: 'store-files', files: [paths[3]!], folder, tempPrefix: 'd' });
    expect(short).toEqual({ digests: [], hashedAt: [], stored: [], failure: { index: 0, got: 5 } });
    const left = (await readdir(folder, { recursive: true })).filter((name) => name.endsWith('.tmp'));
    expect(left).toEqual([]);
  });

  it("copy blobs out of a store's folder with exactly their modes; a missing blob, another size or a file there fail only that copy", async () => {
    const dir = join(work, `c${++dirs}`);
    await mkdir(join(dir, 'out'), { recursive: true });
    const data = randomBytes(3 << 20); // over IN_PLACE_BYTES: a worker's
    await writeFile(join(dir, 'blob'), data, { mode: 0o644 });
    await writeFile(join(dir, 'out', 'taken'), 'mine');
    const copy = (target: string, size = data.length, source = join(dir, 'blob')) => ({
      source,
      target: join(dir, 'out', target),
      size,
      mode: 0o750,
    });
    const outcomes = await fileJob({
      op: 'copy-files',
      files: [copy('a'), copy('gone', data.length, join(dir, 'no-blob')), copy('short', 10), copy('taken')],
    });
    expect(outcomes[0]).toBeUndefined();
    expect(outcomes[1]).toMatchObject({ missing: { code: 'ENOENT' } });
    expect(outcomes[2]).toEqual({ size: data.length });
    expect(outcomes[3]).toMatchObject({ error: { code: 'EEXIST' } });
    expect((await readFile(join(dir, 'out', 'a'))).equals(data)).toBe(true);
    expect((await stat(join(dir, 'out', 'a'))).mode & 0o7777).toBe(0o750);
    expect(await readFile(join(dir, 'out', 'taken'), 'utf8')).toBe('mine');
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['a', 'taken']);
  });

  it('write each blob to its temp file and rename it into place; a wrong content or a missing folder only fails that blob', async () => {
    const dir = join(work, `w${++dirs}`);
    await mkdir(dir);
    const [a, b, c] = [randomBytes(600_000), randomBytes(600_000), randomBytes(10)];
    const span = (data: Buffer) => ({ buffer: data.buffer, offset: data.byteOffset, length: data.length });
    const blob = (data: Buffer, digest: string, folder = dir) => ({
      digest,
      temp: join(folder, `${digest}.tmp`),
      target: join(folder, digest),
      hashed: false,
      parts: [span(data.subarray(0, 1000)), span(data.subarray(1000))],
    });
    const outcomes = await fileJob({
      op: 'write-blobs',
      blobs: [blob(a, sha(a)), blob(b, sha(a)), blob(c, sha(c), join(dir, 'gone'))],
    });
    expect(outcomes[0]).toBeUndefined();
    expect(outcomes[1]).toEqual({ actual: sha(b) });
    expect(outcomes[2]).toMatchObject({ error: { code: 'ENOENT' } });
    expect((await readFile(join(dir, sha(a)))).equals(a)).toBe(true);
    expect(await readdir(dir)).toEqual([sha(a)]); // no temp file left, nothing for the wrong content
  });

  it('a blob hashed by the caller is written as it is, unchecked', () => {
    const data = Buffer.from('content');
    const target = join(work, 'named-by-the-caller');
    runFileJob({
      op: 'write-blobs',
      blobs: [
        {
          digest: 'x',
          temp: `${target}.tmp`,
          target,
          hashed: true,
          parts: [{ buffer: data.buffer, offset: data.byteOffset, length: 7 }],
        },
      ],
    });
    expect(existsSync(target)).toBe(true);
    expect(existsSync(`${target}.tmp`)).toBe(false);
  });

  it('a job that throws on its worker thread fails as a bug, and the next job runs', async () => {
    const bytes = new SharedArrayBuffer(2 << 20);
    const bad = { digest: 'd', temp: join(work, 'never.tmp'), target: join(work, 'never'), hashed: true };
    // A span past its buffer's end: a bug in the caller, not a file error.
    await expect(
      fileJob({ op: 'write-blobs', blobs: [{ ...bad, parts: [{ buffer: bytes, offset: 1 << 20, length: 2 << 20 }] }] }),
    ).rejects.toThrow(/internal error .*: a file job failed on its worker thread: .*Invalid typed array length/);
    const { job, contents } = await files(12, 100_000);
    expect((await fileJob(job)).digests).toEqual(contents.map(sha));
  });

  it('hand a worker shared memory only: private bytes are copied once, a read needs a shared buffer', () => {
    const shared = Buffer.from(new SharedArrayBuffer(8));
    const own = Buffer.from('private!');
    const job = shareable({
      op: 'write-blobs',
      blobs: [
        {
          digest: 'd',
          temp: 't',
          target: 'x',
          hashed: true,
          parts: [
            { buffer: shared.buffer, offset: 0, length: 8 },
            { buffer: own.buffer, offset: own.byteOffset, length: 8 },
          ],
        },
      ],
    });
    const [kept, copied] = job.blobs[0]!.parts;
    expect(kept!.buffer).toBe(shared.buffer);
    expect(copied!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(copied!.buffer as SharedArrayBuffer, copied!.offset, copied!.length).toString()).toBe(
      'private!',
    );
    expect(() => shareable({ op: 'read-hash', buffer: new ArrayBuffer(8), files: [] })).toThrow(
      'a read on a worker needs a SharedArrayBuffer',
    );
  });
});
