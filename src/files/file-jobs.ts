/**
 * File work on many small files at once: reading files into a pack buffer and hashing them
 * (a runner saving artifacts), hashing big files, storing files and writing verified blobs
 * (the local blob store), copying blobs out of a store on this machine. A job is data in and
 * data out, so that it runs the same in place or on a worker thread (file-workers.ts decides
 * which); file-job-calls.ts makes its calls.
 */
import { InvalidError } from '../core/errors.js';
import { copyFiles, hashFile, readHash, storeFiles, writeBlobs } from './file-job-calls.js';

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
