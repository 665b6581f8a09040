/** BlobStore on local disk: `<root>/ab/abcdef…`, written to a temp file and renamed into place. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { DIGEST, emptyStats, type BlobStore, type BlobStoreStats } from './blob-store.js';

export class LocalBlobStore implements BlobStore {
  private readonly counters = emptyStats();
  /** Shard folders known to exist: a put of many small blobs skips a mkdir each. */
  private readonly shards = new Set<string>();

  constructor(private readonly root: string) {}

  private path(digest: string): string {
    if (!DIGEST.test(digest)) throw new InvalidError(`not a sha256 digest: '${digest}'`);
    return join(this.root, digest.slice(0, 2), digest);
  }

  stats(): BlobStoreStats {
    return { ...this.counters };
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    const unique = [...new Set(digests)];
    const checks = await Promise.all(unique.map(async (d) => ((await this.size(d)) === undefined ? d : null)));
    return checks.filter((d): d is string => d !== null);
  }

  async put(digest: string, content: Readable): Promise<void> {
    const target = this.path(digest);
    const shard = digest.slice(0, 2);
    if (!this.shards.has(shard)) {
      await mkdir(join(this.root, shard), { recursive: true });
      this.shards.add(shard);
    }
    // Temp files are named so that `list` never takes them for blobs (they are not 64 hex digits).
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    let bytes = 0;
    content.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    try {
      await pipeline(content, createWriteStream(temp)).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        this.shards.delete(shard); // its folder went away under us (deleted by hand): not fatal
        throw new UnavailableError(`blob folder ${join(this.root, shard)} vanished; retry the upload`, { cause: e });
      });
      const actual = hash.digest('hex');
      if (actual !== digest)
        throw new InvalidError(`blob content does not match its digest (expected ${digest}, got ${actual})`);
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    this.counters.blobsWritten++;
    this.counters.bytesWritten += bytes;
  }

  async get(digest: string): Promise<Readable> {
    const path = this.path(digest);
    const size = await this.size(digest);
    if (size === undefined) throw new NotFoundError(`blob ${digest} is not stored`);
    this.counters.blobsRead++;
    this.counters.bytesRead += size;
    return createReadStream(path);
  }

  async *list(): AsyncIterable<{ digest: string; size: number; storedAt: number }> {
    let dirs: string[];
    try {
      dirs = await readdir(this.root);
    } catch {
      return;
    }
    for (const dir of dirs.filter((d) => /^[0-9a-f]{2}$/.test(d))) {
      for (const name of await readdir(join(this.root, dir))) {
        if (!DIGEST.test(name)) continue; // temp files of uploads in progress
        const info = await stat(join(this.root, dir, name)).catch(() => undefined);
        if (info) yield { digest: name, size: info.size, storedAt: info.mtimeMs };
      }
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  async size(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}
