/**
 * Whole-file reads and writes on plain file descriptors, for the thousands of small files of
 * artifacts. `fs/promises` wraps each open file in a FileHandle (an object, promises per call,
 * a close tracked for GC); these callback calls cost the event loop about a third less per
 * file, and the loop's thread is what limits saving and restoring many small files.
 */
import { close, fchmod, fstat, open, read, write, writev } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';

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
const writeFd = (fd: number, buf: Uint8Array, at: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    write(fd, buf, at, length, position, (e, n) => (e ? reject(e) : resolve(n))),
  );
const writevFd = (fd: number, parts: Uint8Array[], position: number) =>
  new Promise<number>((resolve, reject) => writev(fd, parts, position, (e, n) => (e ? reject(e) : resolve(n))));

/** All of `parts` at the start of `fd`, in one call when the kernel takes it all (it nearly always does). */
async function writeAll(fd: number, parts: readonly Uint8Array[]): Promise<void> {
  const left = parts.filter((p) => p.length > 0);
  let at = 0;
  while (left.length > 0) {
    let n = left.length === 1 ? await writeFd(fd, left[0]!, 0, left[0]!.length, at) : await writevFd(fd, left, at);
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

/** Read up to `size` bytes of `path` into `buf` at `at`; the bytes read (fewer only when the file is shorter). */
export async function readInto(path: string, buf: Uint8Array, at: number, size: number): Promise<number> {
  const fd = await openFd(path, 'r');
  try {
    return await readFully(fd, buf, at, size);
  } finally {
    await closeFd(fd);
  }
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
 * with `mode` (through the umask) and write all of `data` to it.
 */
export async function writeNew(
  path: string,
  /** The content: one buffer, or parts written one after another (a pack entry's chunks). */
  data: Uint8Array | readonly Uint8Array[],
  mode = 0o644,
  /** Called once written, before the file is closed: the mode the umask left, and a way to set it. */
  check?: (file: { mode(): Promise<number>; chmod(mode: number): Promise<void> }) => Promise<void>,
): Promise<void> {
  const fd = await openFd(path, 'wx', mode);
  try {
    await writeAll(fd, data instanceof Uint8Array ? [data] : data);
    await check?.({ mode: async () => (await fstatFd(fd)).mode & 0o7777, chmod: (m) => fchmodFd(fd, m) });
  } finally {
    await closeFd(fd);
  }
}

/**
 * `mkdir(path, { recursive: true })`, with its answer (the first folder it created, or
 * undefined when `path` was a folder already), in one plain `mkdir` when only the last
 * folder is missing: Node's recursive mkdir takes several trips through libuv's pool (about
 * 1 ms on an idle machine, against 0.1 ms), and a runner makes folders for every job.
 */
export async function makeFolders(path: string): Promise<string | undefined> {
  try {
    await mkdir(path);
    return path;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EEXIST') throw e;
  }
  // Missing folders above it, or something there already (a folder, or a file: an error).
  return mkdir(path, { recursive: true });
}
