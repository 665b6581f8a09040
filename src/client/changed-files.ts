/**
 * Which of a snapshot's files the server needs as blobs. All of them, unless runners will
 * clone the code: the remote is registered (`dstack init`) and the commit is on it. Then
 * only the files whose bytes differ from the commit's blob (changed, untracked, or not a
 * plain file there) — compared by git object id, raw bytes, no filters — which is exactly
 * what a runner writing the commit's raw blobs needs from elsewhere.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { ManifestEntry } from '../core/records.js';
import type { Client } from './client.js';
import { gitOutput } from './git.js';
import type { Snapshot } from './snapshot.js';

/** The git object id of a file's bytes as a blob (`git hash-object --no-filters`). */
export async function blobId(path: string, size: number, format: 'sha1' | 'sha256'): Promise<string> {
  const hash = createHash(format).update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files of `HEAD:subdir` by path, with their blob ids. */
async function committedBlobs(root: string, subdir: string): Promise<Map<string, string> | undefined> {
  const out = await gitOutput(root, 'ls-tree', '--full-tree', '-r', '-z', `HEAD:${subdir}`);
  if (out === undefined) return undefined;
  const blobs = new Map<string, string>();
  for (const record of out.split('\0')) {
    const m = /^(100644|100755) blob ([0-9a-f]+)\t(.*)$/s.exec(record);
    if (m) blobs.set(m[3]!, m[2]!);
  }
  return blobs;
}

/** True when runners will clone this snapshot's code: its remote is registered and has the commit. */
async function willClone(client: Client, root: string, snapshot: Snapshot): Promise<boolean> {
  const { remote, commit } = snapshot.repo;
  if (!remote || !commit) return false;
  // A remote-tracking branch of origin that contains HEAD: as far as this clone knows, the commit is pushed.
  const pushed = await gitOutput(root, 'for-each-ref', '--count=1', '--contains=HEAD', 'refs/remotes/origin');
  if (!pushed?.trim()) return false;
  const registered = await client.listRepos().catch(() => []);
  return registered.some((r) => r.remote === remote);
}

/** The entries whose blobs to upload: every file, or only those that differ from the pushed commit. */
export async function filesToUpload(client: Client, root: string, snapshot: Snapshot): Promise<ManifestEntry[]> {
  const files = snapshot.manifest.files;
  if (!(await willClone(client, root, snapshot))) return files;
  const committed = await committedBlobs(root, snapshot.repo.subdir ?? '');
  if (!committed) return files;
  const format = (await gitOutput(root, 'rev-parse', '--show-object-format'))?.trim() === 'sha256' ? 'sha256' : 'sha1';
  const out: ManifestEntry[] = [];
  for (const entry of files) {
    if (entry.digest === undefined) continue; // symlinks travel in the manifest itself
    const id = committed.get(entry.path);
    if (id === undefined || id !== (await blobId(join(root, entry.path), entry.size, format))) out.push(entry);
  }
  return out;
}
