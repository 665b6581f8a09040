/**
 * Digests of files this process has hashed already, as git's index keeps them: a file whose
 * path, inode, size and modification time (ns) are unchanged is taken to have unchanged
 * content, so re-saving a big artifact folder in which one file changed reads one file.
 *
 * Kept in memory only (a runner is a long-lived process): a job's commands cannot reach it,
 * so a job cannot make the runner claim a digest for content it never had. The manifest
 * still names content digests; only how they were found changes. ctime is not part of the
 * key: a hard link to the file (how a job copies a folder cheaply, `cp -al`) changes it.
 */
import type { BigIntStats } from 'node:fs';

/** A file modified this close to when it was hashed may change again within the same mtime tick: not cached. */
const RACY_MS = 1000;

interface Cached {
  size: bigint;
  mtimeNs: bigint;
  digest: string;
}

export class HashCache {
  private readonly entries = new Map<string, Cached>();

  /** `maxEntries`: the oldest are forgotten past this (about 200 bytes each). */
  constructor(private readonly maxEntries = 500_000) {}

  private static key(path: string, info: BigIntStats): string {
    return `${info.dev}:${info.ino}:${path}`;
  }

  /** The digest of `path` when it was hashed before and is the same file, unchanged since. */
  get(path: string, info: BigIntStats): string | undefined {
    const hit = this.entries.get(HashCache.key(path, info));
    return hit && hit.size === info.size && hit.mtimeNs === info.mtimeNs ? hit.digest : undefined;
  }

  /** Remember the digest of `path`, hashed from content read after `hashedAt` (epoch ms) began. */
  set(path: string, info: BigIntStats, digest: string, hashedAt: number): void {
    if (info.mtimeNs >= BigInt(hashedAt - RACY_MS) * 1_000_000n) return; // racily clean: a later write may keep this mtime
    const key = HashCache.key(path, info);
    this.entries.delete(key); // re-inserted last: the map's order is the order of use
    this.entries.set(key, { size: info.size, mtimeNs: info.mtimeNs, digest });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
