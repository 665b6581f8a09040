/** Building manifests: walking folders, hashing files, for code snapshots and artifacts. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import type { ManifestEntry } from '../core/records.js';
import { isInside } from './safe-path.js';

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
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
async function describe(root: string, path: string, boundary: string): Promise<ManifestEntry | undefined> {
  const full = join(root, path);
  let info;
  try {
    info = await lstat(full);
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
  return { path, size: info.size, mode: info.mode & 0o777, digest: await hashFile(full) };
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

/** The files of an artifact path inside a workspace: a file, or everything under a folder. */
export async function describeArtifact(workspace: string, artifact: string): Promise<ManifestEntry[] | undefined> {
  const full = join(workspace, artifact);
  let info;
  try {
    info = await stat(full);
  } catch {
    return undefined;
  }
  const boundary = info.isDirectory() ? full : dirname(full);
  const paths = info.isDirectory() ? await walk(workspace, artifact) : [artifact];
  const out: ManifestEntry[] = [];
  for (const p of paths) {
    const e = await describe(workspace, p, boundary);
    if (e) out.push(e);
  }
  return out;
}

export function relativePosix(root: string, path: string): string {
  return relative(root, path).split('\\').join('/');
}
