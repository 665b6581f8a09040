/**
 * What each file job (file-jobs.ts) does, as plain synchronous calls.
 *
 * Why synchronous calls on a thread of their own: each file costs about seven calls (open,
 * read, close; open, write, close, rename), and a call through libuv's pool costs the event
 * loop's thread more than the call itself (bench/PROFILES.md, session 13), while creating a
 * file costs the kernel 80 to 230 µs, too much to make in place on the loop's thread. A
 * worker makes the calls back to back, as `cp` does, and hashes in between.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { blobPath } from './blob-path.js';
import type {
  CopyFilesJob,
  CopyOutcome,
  FileError,
  HashFileJob,
  HashFileResult,
  ReadHashJob,
  ReadHashResult,
  StoreFilesJob,
  StoreFilesResult,
  WriteBlobsJob,
  WriteOutcome,
} from './file-jobs.js';
import { makeFolderSync } from './make-folder.js';

/**
 * Files are read as the scan found them, regular files: a link put in a file's place since
 * (by a job still running) is refused (ELOOP), not followed out of its folder.
 */
const READ = constants.O_RDONLY | constants.O_NOFOLLOW;

export function readHash({ buffer, files }: ReadHashJob): ReadHashResult {
  const bytes = new Uint8Array(buffer);
  const result: ReadHashResult = { digests: [], hashedAt: [] };
  for (let index = 0; index < files.length; index++) {
    const { path, at, size } = files[index]!;
    const hashedAt = Date.now();
    result.failure = readWhole(index, path, bytes, at, size);
    if (result.failure) break;
    result.digests.push(
      createHash('sha256')
        .update(bytes.subarray(at, at + size))
        .digest('hex'),
    );
    result.hashedAt.push(hashedAt);
  }
  return result;
}

/** File `index` of a job read whole into `bytes` at `at`; or why not, which stops the job. */
function readWhole(
  index: number,
  path: string,
  bytes: Uint8Array,
  at: number,
  size: number,
): ReadHashResult['failure'] | undefined {
  try {
    const got = readAt(path, bytes, at, size);
    return got < size ? { index, got } : undefined;
  } catch (e) {
    return { index, error: fileError(e) };
  }
}

/** Up to `size` bytes of `path` into `bytes` at `at`; fewer only when the file is shorter. */
function readAt(path: string, bytes: Uint8Array, at: number, size: number): number {
  const fd = openSync(path, READ);
  try {
    let got = 0;
    while (got < size) {
      const n = readSync(fd, bytes, at + got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return got;
  } finally {
    closeSync(fd);
  }
}

const CHUNK = 1 << 20;

export function hashFile({ path, size, store }: HashFileJob): HashFileResult {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let fd: number | undefined;
  let out: number | undefined;
  try {
    fd = openSync(path, READ);
    if (store) out = openSync(store.temp, 'wx', 0o644);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - got), got);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      if (out !== undefined) writeAt(out, [chunk.subarray(0, n)], got);
      got += n;
    }
    if (got < size) return { failure: { got } };
    const digest = hash.digest('hex');
    if (!store) return { digest };
    closeSync(out!);
    out = undefined;
    const target = blobPath(store.folder, digest);
    if (existsSync(target)) return { digest, stored: false };
    makeFolderSync(dirname(target));
    renameSync(store.temp, target);
    return { digest, stored: true };
  } catch (e) {
    return { failure: { error: fileError(e) } };
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (out !== undefined) closeSync(out);
    if (store) rmSync(store.temp, { force: true }); // renamed away when stored
  }
}

export function storeFiles({ files, folder, tempPrefix }: StoreFilesJob): StoreFilesResult {
  const result: StoreFilesResult = { digests: [], hashedAt: [], stored: [] };
  const bytes = Buffer.allocUnsafe(Math.max(1, ...files.map((f) => f.size)));
  const shards = new Set<string>();
  for (let index = 0; index < files.length; index++) {
    const { path, size } = files[index]!;
    const hashedAt = Date.now();
    result.failure = readWhole(index, path, bytes, 0, size);
    if (result.failure) break;
    const content = bytes.subarray(0, size);
    const digest = createHash('sha256').update(content).digest('hex');
    const target = blobPath(folder, digest);
    const stored = !existsSync(target);
    try {
      if (stored) storeAt(target, `${target}.${tempPrefix}-${index}.tmp`, content, shards);
    } catch (e) {
      result.failure = { index, error: fileError(e) };
      break;
    }
    result.digests.push(digest);
    result.hashedAt.push(hashedAt);
    result.stored.push(stored);
  }
  return result;
}

/**
 * `content` written to `temp` and renamed to `target`, its shard folder made first when
 * this job has not seen it yet, and again when it vanished (removed by hand).
 */
function storeAt(target: string, temp: string, content: Uint8Array, shards: Set<string>): void {
  const shard = dirname(target);
  if (!shards.has(shard)) makeFolderSync(shard);
  shards.add(shard);
  try {
    writeRenamed(temp, target, [content]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    makeFolderSync(shard);
    writeRenamed(temp, target, [content]);
  }
}

export function writeBlobs({ blobs }: WriteBlobsJob): WriteOutcome[] {
  return blobs.map(({ digest, temp, target, hashed, parts }) => {
    const views = parts.map((p) => new Uint8Array(p.buffer, p.offset, p.length));
    if (!hashed) {
      const actual = digestOfParts(views);
      if (actual !== digest) return { actual };
    }
    try {
      writeRenamed(temp, target, views);
      return undefined;
    } catch (e) {
      return { error: fileError(e) };
    }
  });
}

/** `views` written to a new `temp` and renamed to `target`; on a failure, no temp file is left. */
function writeRenamed(temp: string, target: string, views: Uint8Array[]): void {
  try {
    writeNew(temp, views);
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Create `path` ('wx': fails on anything there, follows no link) and write `views` one after another. */
function writeNew(path: string, views: Uint8Array[]): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeAt(fd, views, 0);
  } finally {
    closeSync(fd);
  }
}

/** All of `views`, one after another, at `position`: in one call when the kernel takes it all. */
function writeAt(fd: number, views: Uint8Array[], position: number): void {
  let left = views.filter((v) => v.length > 0);
  while (left.length > 0) {
    let n = writevSync(fd, left, position);
    position += n;
    // Drop what was written; the view it stopped in goes on from there.
    while (left.length > 0 && n >= left[0]!.length) n -= left.shift()!.length;
    if (n > 0) left = [left[0]!.subarray(n), ...left.slice(1)];
  }
}

export function copyFiles({ files }: CopyFilesJob): CopyOutcome[] {
  return files.map(({ source, target, size, mode }) => {
    let blob;
    try {
      blob = statSync(source);
    } catch (e) {
      const error = fileError(e);
      return error.code === 'ENOENT' || error.code === 'EACCES' ? { missing: error } : { error };
    }
    if (blob.size !== size) return { size: blob.size };
    try {
      copyFileSync(source, target, constants.COPYFILE_EXCL);
    } catch (e) {
      const error = fileError(e);
      // The blob is opened first: gone (pruned) or unreadable since, nothing was written.
      if (error.code === 'ENOENT' || error.code === 'EACCES') return { missing: error };
      // Created exclusively, so what is there is this copy's, cut short; or someone's (EEXIST), left alone.
      if (error.code !== 'EEXIST') rmSync(target, { force: true });
      return { error };
    }
    try {
      if ((blob.mode & 0o7777) !== mode) chmodSync(target, mode); // the copy took the blob's mode
      return undefined;
    } catch (e) {
      return { error: fileError(e) };
    }
  });
}

/** The sha256 (hex) of `parts` one after another, none joined. */
export function digestOfParts(parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function fileError(e: unknown): FileError {
  const { message, code, path } = e as NodeJS.ErrnoException;
  if (code === undefined) return { message: String(message ?? e) };
  return path === undefined ? { message, code } : { message, code, path };
}
