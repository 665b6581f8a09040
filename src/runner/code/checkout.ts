/**
 * Writing a commit's files into a workspace straight from the mirror: the raw blobs
 * (`git cat-file --batch`), with no checkout filters or attributes, so a file's bytes are
 * exactly those the CLI compared against when it decided what to upload. Only files of
 * the run's manifest whose content matches are written; everything else (deleted or
 * ignored files, symlinks, changed files) is left to the caller.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { restoredFileMode } from '../../core/file-modes.js';
import type { ManifestEntry } from '../../core/records.js';
import { prepareWrite } from '../../files/safe-path.js';
import { git, GitError, scrub, type GitContext } from './git.js';

/** A file of a git tree: its mode (`100644`, `100755`, `120000`, `160000`), type, object id, path. */
export interface TreeEntry {
  mode: string;
  type: string;
  id: string;
  path: string;
}

/** Parse `git ls-tree -r -z` output. */
export function parseTree(out: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of out.toString('utf8').split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [mode = '', type = '', id = ''] = record.slice(0, tab).split(' ');
    entries.push({ mode, type, id, path: record.slice(tab + 1) });
  }
  return entries;
}

/** The files of `commit` under `subdir` ('' for the whole repo), relative to it. */
export async function listTree(
  mirror: string,
  commit: string,
  subdir: string,
  ctx: GitContext,
  signal?: AbortSignal,
): Promise<TreeEntry[]> {
  const tree = `${commit}:${subdir.replace(/\/+$/, '')}`;
  return parseTree(await git(['ls-tree', '-r', '-z', tree], ctx, mirror, signal));
}

/** Reads `git cat-file --batch` output object by object without copying big blobs over and over. */
async function* objects(stdout: AsyncIterable<Buffer>): AsyncGenerator<Buffer | undefined> {
  let chunks: Buffer[] = [];
  let total = 0;
  let size: number | undefined; // of the object whose body is awaited
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks = n < all.length ? [all.subarray(n)] : [];
    total = all.length - n;
    return all.subarray(0, n);
  };
  for await (const chunk of stdout) {
    chunks.push(chunk);
    total += chunk.length;
    for (;;) {
      if (size === undefined) {
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        chunks = [head];
        const nl = head.indexOf(10);
        if (nl < 0) break;
        const header = take(nl + 1)
          .toString('utf8')
          .trim()
          .split(' ');
        if (header[1] === 'missing' || header.length < 3) {
          yield undefined;
          continue;
        }
        size = Number(header[2]);
      }
      if (total < size + 1) break;
      const body = take(size + 1).subarray(0, size); // each body ends with a newline
      size = undefined;
      yield body;
    }
  }
}

/**
 * Write the regular files of `tree` that `files` lists with the same sha256 into `dir`
 * (mode as in the manifest); returns the paths written. `signal` (a stop) ends git and the writing.
 */
export async function writeMatchingBlobs(
  mirror: string,
  tree: readonly TreeEntry[],
  files: readonly ManifestEntry[],
  dir: string,
  ctx: GitContext,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const wanted = new Map(files.filter((f) => f.digest !== undefined).map((f) => [f.path, f]));
  const todo = tree.filter((t) => t.type === 'blob' && t.mode !== '120000' && wanted.has(t.path));
  const written = new Set<string>();
  if (todo.length === 0) return written;
  signal?.throwIfAborted();
  const child = spawn('git', [`--git-dir=${mirror}`, 'cat-file', '--batch'], {
    env: ctx.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(signal ? { signal } : {}),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (e) => (signal?.aborted ? resolve(null) : reject(e))); // an abort is thrown below
    child.on('close', resolve);
  });
  child.stdin.on('error', () => {}); // git exiting early is reported by its exit code below
  child.stdin.end(todo.map((t) => `${t.id}\n`).join(''));
  let i = 0;
  for await (const content of objects(child.stdout)) {
    const entry = wanted.get(todo[i++]!.path)!;
    if (!content || createHash('sha256').update(content).digest('hex') !== entry.digest) continue;
    const target = await prepareWrite(dir, entry.path);
    await writeFile(target, content, { mode: restoredFileMode(entry.mode) });
    await chmod(target, restoredFileMode(entry.mode));
    written.add(entry.path);
  }
  const code = await exited;
  signal?.throwIfAborted();
  if (code !== 0)
    throw new GitError(scrub(`git cat-file failed: ${stderr.trim() || `exit code ${code}`}`, ctx.secrets));
  return written;
}
