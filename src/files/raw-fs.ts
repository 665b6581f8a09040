/**
 * Whole-file reads and writes on plain file descriptors, for the thousands of small files of
 * artifacts and workspaces. `fs/promises` wraps each open file in a FileHandle (an object,
 * promises per call, a close tracked for GC); these callback calls cost the event loop about
 * a third less per file, and the loop's thread is what limits saving and restoring many small files.
 *
 * Small calls are made synchronously. Handing a call to libuv's pool and taking its answer
 * back costs the loop's thread more than the call itself when the file system has what it
 * needs in memory: open and close 86 µs through the pool against 5 µs in place, mkdir 144
 * against 39, a 20-byte file 290 against 33 (bench/PROFILES.md, session 13). Metadata calls
 * and files up to SMALL_FILE stay on the thread; larger files still go through the pool,
 * where copying their bytes does not hold the loop up.
 */
import {
  close,
  closeSync,
  fchmod,
  fchmodSync,
  fstat,
  fstatSync,
  open,
  openSync,
  read,
  writev,
  writevSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { makeFolderSync } from './make-folder.js';

/** Files up to this size are written with synchronous calls: the pool's hand-off costs more than their bytes. */
export const SMALL_FILE = 64 * 1024;

/** Synchronous metadata calls made between two turns of the event loop (well under a millisecond of cached inodes). */
const SLICE = 128;

/**
 * `call` on every item, synchronously in slices of SLICE with the event loop let through
 * between them. For metadata calls on thousands of files (lstat, access): the callback form
 * costs the loop's thread 3–5 times the syscall itself (a request object, a trip through
 * libuv's pool, a callback), and these calls are on cached inodes, so the sync call is
 * cheaper than handing it off. Results in the order of `items`.
 */
export async function inSlices<T, R>(items: readonly T[], call: (item: T) => R): Promise<R[]> {
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE === 0) await new Promise((r) => setImmediate(r));
    out[i] = call(items[i]!);
  }
  return out;
}

const openFd = promisify(open);
const closeFd = promisify(close);
const fstatFd = promisify(fstat);
const fchmodFd = promisify(fchmod);
const readFd = (fd: number, buf: Uint8Array, at: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) => read(fd, buf, at, length, position, (e, n) => (e ? reject(e) : resolve(n))));
type WritevAt = (fd: number, parts: Uint8Array[], position: number) => number | Promise<number>;
const writevFd: WritevAt = (fd, parts, position) =>
  new Promise<number>((resolve, reject) => writev(fd, parts, position, (e, n) => (e ? reject(e) : resolve(n))));

/** The calls that write a new file: made in place, or through libuv's pool. */
interface WriteCalls {
  open(path: string, flags: string, mode: number): number | Promise<number>;
  writev: WritevAt;
  fstat(fd: number): { mode: number } | Promise<{ mode: number }>;
  fchmod(fd: number, mode: number): void | Promise<void>;
  close(fd: number): void | Promise<void>;
}
const IN_PLACE: WriteCalls = {
  open: openSync,
  writev: writevSync,
  fstat: fstatSync,
  fchmod: fchmodSync,
  close: closeSync,
};
const POOLED: WriteCalls = { open: openFd, writev: writevFd, fstat: fstatFd, fchmod: fchmodFd, close: closeFd };

/** All of `parts` at the start of `fd`, in one call when the kernel takes it all (it nearly always does). */
async function writeAll(fd: number, parts: readonly Uint8Array[], writevAt: WritevAt): Promise<void> {
  const left = parts.filter((p) => p.length > 0);
  let at = 0;
  while (left.length > 0) {
    let n = await writevAt(fd, left, at);
    at += n;
    // Drop what was written; the part it stopped in goes on from there.
    while (left.length > 0 && n >= left[0]!.length) n -= left.shift()!.length;
    if (n > 0) left[0] = left[0]!.subarray(n);
  }
}

async function readFully(fd: number, buf: Uint8Array, at: number, size: number): Promise<number> {
  let got = 0;
  while (got < size) {
    const n = await readFd(fd, buf, at + got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * The whole of `path` as one fstat sizes it, for files that never change once written (blobs).
 * `errors.tooBig` when over `max` bytes (nothing read), `errors.short` when it ends early.
 */
export async function readWhole(
  path: string,
  max: number,
  errors: { tooBig(size: number): Error; short(got: number, size: number): Error },
): Promise<Buffer> {
  const fd = await openFd(path, 'r');
  try {
    const { size } = await fstatFd(fd);
    if (size > max) throw errors.tooBig(size);
    const data = Buffer.allocUnsafe(size);
    const got = await readFully(fd, data, 0, size);
    if (got < size) throw errors.short(got, size);
    return data;
  } finally {
    await closeFd(fd);
  }
}

/**
 * Create `path` (failing with EEXIST when something is there: O_EXCL never follows a link)
 * with `mode` (through the umask) and write all of `data` to it; synchronously up to
 * `inPlaceUpTo` bytes (SMALL_FILE unless the caller knows better: see download.ts).
 */
export async function writeNew(
  path: string,
  /** The content: one buffer, or parts written one after another (a pack entry's chunks). */
  data: Uint8Array | readonly Uint8Array[],
  mode = 0o644,
  /** Called once written, before the file is closed: the mode the umask left, and a way to set it. */
  check?: (file: { mode(): Promise<number>; chmod(mode: number): Promise<void> }) => Promise<void>,
  inPlaceUpTo = SMALL_FILE,
): Promise<void> {
  const parts = data instanceof Uint8Array ? [data] : data;
  const calls = parts.reduce((size, part) => size + part.length, 0) <= inPlaceUpTo ? IN_PLACE : POOLED;
  const fd = await calls.open(path, 'wx', mode);
  try {
    await writeAll(fd, parts, calls.writev);
    await check?.({ mode: async () => (await calls.fstat(fd)).mode & 0o7777, chmod: async (m) => calls.fchmod(fd, m) });
  } finally {
    await calls.close(fd);
  }
}

/**
 * make-folder.ts's makeFolderSync: the first folder it created, or undefined when `path` was a
 * folder already, in one plain `mkdir` when only the last folder is missing, and synchronously:
 * a runner makes folders for every job.
 */
export function makeFolders(path: string): string | undefined {
  return makeFolderSync(path);
}
