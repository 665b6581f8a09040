/**
 * Paths that must stay inside a folder: workspace files, artifacts, `--output` downloads.
 * No absolute paths, no `..` out of it, no writing through a symlink that leads out.
 */
import { lstat, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { InvalidError } from '../core/errors.js';
import { blockedWrite, WriteBlockedError } from './write-blocked.js';
import { makeFolder } from './make-folder.js';

/**
 * Normalise a relative path (as manifests hold them: `/` between names); InvalidError when it
 * is absolute or leaves its folder. On POSIX a backslash is part of a name, as a job on Linux
 * may write it; on Windows it would split the name, so such a path is refused there.
 */
export function normalizeRelative(path: string, platform: NodeJS.Platform = process.platform): string {
  if (path.startsWith('/')) throw new InvalidError(`path '${path}' is absolute`);
  if (platform === 'win32' && /[\\:]/.test(path))
    throw new InvalidError(`path '${path}' has a name with '\\' or ':', which this system cannot write`);
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new InvalidError(`path '${path}' leaves its folder`);
    parts.push(part);
  }
  if (parts.length === 0) throw new InvalidError(`path '${path}' is empty`);
  return parts.join('/');
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Prepare to write `rel` under `root`: create its folders, make sure none of them is a
 * symlink leading out of `root`, and remove whatever is at the path (so a symlink there
 * is replaced, not followed). Returns the absolute path.
 */
export async function prepareWrite(root: string, rel: string): Promise<string> {
  const target = join(root, normalizeRelative(rel));
  const parent = dirname(target);
  await makeFolder(parent).catch(async (e: unknown) => {
    throw await blockedWrite(root, rel, parent, e);
  });
  const [realRoot, realParent] = await Promise.all([realpath(root), realpath(parent)]);
  if (!isInside(realRoot, realParent)) throw new InvalidError(`path '${rel}' leads out of ${root} through a symlink`);
  try {
    const stat = await lstat(target);
    if (stat.isDirectory()) throw new WriteBlockedError(root, rel, target, 'folder');
    await rm(target, { force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return target;
}
