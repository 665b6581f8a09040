/** Building manifests: walking folders, hashing files, for code snapshots and artifacts. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { forEachLimit } from '../core/concurrency.js';
import type { ManifestEntry } from '../core/records.js';
import type { HashCache } from './hash-cache.js';
import { isInside } from './safe-path.js';

/** Files up to this size are hashed from one read (4 syscalls); bigger ones streamed in 1 MiB chunks. */
const WHOLE_READ = 4 << 20;
/**
 * Files hashed at once: reads run on libuv's 4 threads while the main thread hashes, so a
 * few in flight keep both busy; more only add memory and contention on a small machine.
 */
const HASH_CONCURRENCY = 6;

export async function hashFile(path: string, size?: number): Promise<string> {
  const hash = createHash('sha256');
  if (size !== undefined && size <= WHOLE_READ) return hash.update(await readFile(path)).digest('hex');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Entries for the given files under `root` (paths relative to it, `/`-separated). Missing files are skipped. */
export async function describeFiles(
  root: string,
  paths: readonly string[],
  concurrency = 16,
): Promise<ManifestEntry[]> {
  const out: (ManifestEntry | undefined)[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      out[i] = await describe(root, paths[i]!, root);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out.filter((e): e is ManifestEntry => e !== undefined);
}

/**
 * One entry; a symlink is kept as a link only when it points inside `boundary`
 * (the artifact folder), otherwise it is left out: nothing outside is ever read.
 */
async function describe(
  root: string,
  path: string,
  boundary: string,
  cache?: HashCache,
): Promise<ManifestEntry | undefined> {
  const full = join(root, path);
  let info;
  try {
    info = await lstat(full, { bigint: true });
  } catch {
    return undefined;
  }
  if (info.isSymbolicLink()) {
    const link = await readlink(full);
    const resolved = join(dirname(full), link);
    if (link.startsWith('/') || !isInside(boundary, resolved)) return undefined;
    return { path, size: 0, mode: 0o777, link };
  }
  if (!info.isFile()) return undefined;
  const size = Number(info.size);
  const mode = Number(info.mode) & 0o777;
  let digest = cache?.get(path, info);
  if (digest === undefined) {
    const hashedAt = Date.now();
    digest = await hashFile(full, size);
    cache?.set(path, info, digest, hashedAt);
  }
  return { path, size, mode, digest };
}

/** Every file under `dir` (relative to `root`), skipping folders named in `skip`. */
export async function walk(root: string, dir = '', skip: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = dir ? posix.join(dir, entry.name) : entry.name;
    if (entry.isDirectory()) {
      if (!skip.has(entry.name)) out.push(...(await walk(root, rel, skip)));
    } else out.push(rel);
  }
  return out;
}

/**
 * The files of an artifact path inside a workspace: a file, or everything under a folder.
 * With a `cache`, files unchanged since they were last hashed are not read again.
 */
export async function describeArtifact(
  workspace: string,
  artifact: string,
  cache?: HashCache,
): Promise<ManifestEntry[] | undefined> {
  const full = join(workspace, artifact);
  let info;
  try {
    info = await stat(full);
  } catch {
    return undefined;
  }
  const boundary = info.isDirectory() ? full : dirname(full);
  const paths = info.isDirectory() ? await walk(workspace, artifact) : [artifact];
  const out: (ManifestEntry | undefined)[] = new Array(paths.length);
  const indexes = paths.keys();
  await forEachLimit(indexes, HASH_CONCURRENCY, async (i) => {
    out[i] = await describe(workspace, paths[i]!, boundary, cache);
  });
  return out.filter((e): e is ManifestEntry => e !== undefined);
}

export function relativePosix(root: string, path: string): string {
  return relative(root, path).split('\\').join('/');
}
