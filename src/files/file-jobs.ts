/**
 * File work on many small files at once, as plain synchronous calls: reading files into a
 * pack buffer and hashing them (a runner saving artifacts), hashing big files, writing
 * verified blobs (the local blob store), copying blobs out of a store on this machine. A job is data in and data out, so that it runs the same in place or on
 * a worker thread (file-workers.ts decides which).
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
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { InvalidError } from '../core/errors.js';
import { blobPath } from './blob-path.js';

/**
 * Files are read as the scan found them, regular files: a link put in a file's place since
 * (by a job still running) is refused (ELOOP), not followed out of its folder.
 */
const READ = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Bytes at `offset` of `buffer`: a SharedArrayBuffer crosses to a worker without a copy. */
export interface Span {
  buffer: ArrayBufferLike;
  offset: number;
  length: number;
}

/** An errno error's fields, as they cross from a worker (its class does not). */
export interface FileError {
  message: string;
  code?: string;
  path?: string;
}

/** Read each file's first `size` bytes into `buffer` at `at` and hash them. */
export interface ReadHashJob {
  op: 'read-hash';
  buffer: ArrayBufferLike;
  files: { path: string; at: number; size: number }[];
}

export interface ReadHashResult {
  /** sha256 (hex) of each file read, in order: all of them unless `failure`. */
  digests: string[];
  /** When each file's read began (epoch ms): what a hash cache may trust it for. */
  hashedAt: number[];
  /** The first file that could not be read whole; the files after it are not read. */
  failure?: { index: number; error: FileError } | { index: number; got: number };
}

/** Write each blob to `temp` (created, never followed) and rename it to `target`; hash first unless `hashed`. */
export interface WriteBlobsJob {
  op: 'write-blobs';
  blobs: { digest: string; temp: string; target: string; hashed: boolean; parts: Span[] }[];
}

/**
 * Hash a file's first `size` bytes in chunks (a big file of an artifact). With `store`, also
 * write them to `store.temp` as they are read and rename it to the blob's place under
 * `store.folder` (`ab/abcdef…`, a local blob store's layout) unless a blob is there already:
 * one read for the hash and the copy (the runner inside the server, files/upload-scanned.ts).
 */
export interface HashFileJob {
  op: 'hash-file';
  path: string;
  size: number;
  store?: { temp: string; folder: string };
}

/**
 * Store small files in a local blob store's folder (`ab/abcdef…`) under their digests, one
 * read each: the whole file in memory, hashed, then written to a temp file beside its place
 * and renamed there, unless a blob is there already (the runner inside the server saving
 * artifacts: files/upload-scanned.ts). Stops at the first file that cannot be read whole or
 * stored.
 */
export interface StoreFilesJob {
  op: 'store-files';
  files: { path: string; size: number }[];
  folder: string;
  /** Unique among the store's temp files: file i's temp is `TARGET.PREFIX-i.tmp`. */
  tempPrefix: string;
}

export interface StoreFilesResult {
  /** sha256 (hex) of each file stored or found stored, in order: all of them unless `failure`. */
  digests: string[];
  /** When each file's read began (epoch ms): what a hash cache may trust it for. */
  hashedAt: number[];
  /** Whether this job put each blob in place (false: it was there already). */
  stored: boolean[];
  failure?: ReadHashResult['failure'];
}

export interface HashFileResult {
  /** sha256 (hex) of the file's `size` bytes; absent on a failure. */
  digest?: string;
  /** With `store`: whether this job put the blob in place (false: it was there already). */
  stored?: boolean;
  failure?: { error: FileError } | { got: number };
}

/**
 * Copy each blob file of a store on this machine to a new file (created exclusively: never
 * through a link, never over anything there) with exactly `mode`, in the kernel
 * (copy_file_range): a restore from the store's folder (local-copy.ts). The blob's size is
 * checked against `size` before anything is written.
 */
export interface CopyFilesJob {
  op: 'copy-files';
  files: { source: string; target: string; size: number; mode: number }[];
}

/**
 * Per file: undefined when copied; `missing` when the blob is not there or not readable
 * (nothing written); `size` when the blob has another; or the error (EEXIST: something is at
 * the target).
 */
export type CopyOutcome =
  | undefined
  | { missing: FileError; size?: undefined; error?: undefined }
  | { size: number; missing?: undefined; error?: undefined }
  | { error: FileError; missing?: undefined; size?: undefined };

/** Per blob: undefined when stored; the content's digest when it did not match; or the error. */
export type WriteOutcome = undefined | { actual: string } | { error: FileError };

export type FileJob = ReadHashJob | HashFileJob | StoreFilesJob | WriteBlobsJob | CopyFilesJob;
export type FileJobResult<J extends FileJob> = J extends ReadHashJob
  ? ReadHashResult
  : J extends HashFileJob
    ? HashFileResult
    : J extends StoreFilesJob
      ? StoreFilesResult
      : J extends WriteBlobsJob
        ? WriteOutcome[]
        : CopyOutcome[];

export function runFileJob<J extends FileJob>(job: J): FileJobResult<J> {
  switch (job.op) {
    case 'read-hash':
      return readHash(job) as FileJobResult<J>;
    case 'hash-file':
      return hashFile(job) as FileJobResult<J>;
    case 'store-files':
      return storeFiles(job) as FileJobResult<J>;
    case 'write-blobs':
      return writeBlobs(job) as FileJobResult<J>;
    case 'copy-files':
      return copyFiles(job) as FileJobResult<J>;
  }
}

/** The bytes a job moves: what decides where it runs. */
export function jobBytes(job: FileJob): number {
  switch (job.op) {
    case 'read-hash':
      return job.files.reduce((n, f) => n + f.size, 0);
    case 'hash-file':
      return job.size;
    case 'store-files':
      return job.files.reduce((n, f) => n + f.size, 0);
    case 'write-blobs':
      return job.blobs.reduce((n, b) => b.parts.reduce((m, p) => m + p.length, n), 0);
    case 'copy-files':
      return job.files.reduce((n, f) => n + f.size, 0);
  }
}

function readHash({ buffer, files }: ReadHashJob): ReadHashResult {
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

function hashFile({ path, size, store }: HashFileJob): HashFileResult {
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
    mkdirSync(dirname(target), { recursive: true });
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

function storeFiles({ files, folder, tempPrefix }: StoreFilesJob): StoreFilesResult {
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
  if (!shards.has(shard)) mkdirSync(shard, { recursive: true });
  shards.add(shard);
  try {
    writeNew(temp, [content]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(shard, { recursive: true });
    writeNew(temp, [content]);
  }
  try {
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

function writeBlobs({ blobs }: WriteBlobsJob): WriteOutcome[] {
  return blobs.map(({ digest, temp, target, hashed, parts }) => {
    const views = parts.map((p) => new Uint8Array(p.buffer, p.offset, p.length));
    if (!hashed) {
      const actual = digestOfParts(views);
      if (actual !== digest) return { actual };
    }
    try {
      writeNew(temp, views);
      renameSync(temp, target);
      return undefined;
    } catch (e) {
      rmSync(temp, { force: true });
      return { error: fileError(e) };
    }
  });
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

function copyFiles({ files }: CopyFilesJob): CopyOutcome[] {
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

/**
 * `job` with every span in shared memory, to hand to a worker: the bytes of spans in other
 * buffers are copied into one new SharedArrayBuffer (posting their buffers would copy each
 * whole, however little of it a span holds). A read's buffer must be shared already: the
 * worker reads into it for the caller.
 */
export function shareable<J extends FileJob>(job: J): J {
  if (job.op === 'hash-file' || job.op === 'store-files' || job.op === 'copy-files') return job;
  if (job.op === 'read-hash') {
    if (!(job.buffer instanceof SharedArrayBuffer)) throw new Error('a read on a worker needs a SharedArrayBuffer');
    return job;
  }
  const spans = job.blobs.flatMap((b) => b.parts).filter((p) => !(p.buffer instanceof SharedArrayBuffer));
  if (spans.length === 0) return job;
  const into = new Uint8Array(new SharedArrayBuffer(spans.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  const copy = (p: Span): Span => {
    if (p.buffer instanceof SharedArrayBuffer) return p;
    into.set(new Uint8Array(p.buffer, p.offset, p.length), at);
    at += p.length;
    return { buffer: into.buffer, offset: at - p.length, length: p.length };
  };
  return { ...job, blobs: job.blobs.map((b) => ({ ...b, parts: b.parts.map(copy) })) };
}

/** The error of a read that failed: its own, or InvalidError when the file ended before the size it was scanned at. */
export function readFailure(label: string, failure: { error: FileError } | { got: number }): Error {
  return 'error' in failure ? asError(failure.error) : new InvalidError(`${label} shrank while it was being saved`);
}

/** An Error with the fields of one that came back from a job (`code`, for callers that look at it). */
export function asError(error: FileError): NodeJS.ErrnoException {
  const { message, ...fields } = error;
  return Object.assign(new Error(message), fields);
}
