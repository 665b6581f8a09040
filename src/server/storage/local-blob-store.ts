/** BlobStore on local disk: `<root>/ab/abcdef…`, written to a temp file and renamed into place. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { DIGEST, emptyStats, type BlobStore, type BlobStoreStats } from './blob-store.js';

export class LocalBlobStore implements BlobStore {
  private readonly counters = emptyStats();
  /** Shard folders created (or being created): a put of many small blobs skips a mkdir each. */
  private readonly shards = new Map<string, Promise<unknown>>();

  constructor(private readonly root: string) {}

  private path(digest: string): string {
    if (!DIGEST.test(digest)) throw new InvalidError(`not a sha256 digest: '${digest}'`);
    return join(this.root, digest.slice(0, 2), digest);
  }

  stats(): BlobStoreStats {
    return { ...this.counters };
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    // Every digest is checked on disk, never remembered: a blob deleted by hand must read as missing.
    const unique = [...new Set(digests)];
    const checks = await Promise.all(unique.map(async (d) => ((await this.size(d)) === undefined ? d : null)));
    return checks.filter((d): d is string => d !== null);
  }

  /** Create the blob's shard folder once, however many puts into it run at the same time. */
  private async shard(shard: string): Promise<void> {
    let made = this.shards.get(shard);
    if (!made) {
      made = mkdir(join(this.root, shard), { recursive: true });
      this.shards.set(shard, made);
      made.catch(() => this.shards.delete(shard));
    }
    await made;
  }

  private vanished(shard: string, e: NodeJS.ErrnoException): Error {
    if (e.code !== 'ENOENT') return e;
    this.shards.delete(shard); // its folder went away under us (deleted by hand): not fatal
    return new UnavailableError(`blob folder ${join(this.root, shard)} vanished; retry the upload`, { cause: e });
  }

  /**
   * A blob whose content is in memory (an entry of a pack): checked against its digest
   * before anything touches the disk, then written in one call and renamed into place.
   */
  async putBytes(digest: string, data: Buffer): Promise<void> {
    const target = this.path(digest);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== digest)
      throw new InvalidError(`blob content does not match its digest (expected ${digest}, got ${actual})`);
    const shard = digest.slice(0, 2);
    await this.shard(shard);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data, { flag: 'wx' });
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw this.vanished(shard, e as NodeJS.ErrnoException);
    }
    this.counters.blobsWritten++;
    this.counters.bytesWritten += data.length;
  }

  /** A blob of at most `max` bytes in memory (entries of a pack download): one open, no separate stat. */
  async getBytes(digest: string, max: number): Promise<Buffer> {
    let handle;
    try {
      handle = await open(this.path(digest), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`blob ${digest} is not stored`);
      throw e;
    }
    try {
      const { size } = await handle.stat();
      if (size > max) throw new InvalidError(`blob ${digest} is over ${max} bytes, too big for a pack`);
      // Read to the size just found (readFile would fstat again): a blob never changes once stored.
      const data = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await handle.read(data, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < size) throw new UnavailableError(`blob ${digest} was cut short while it was read`);
      this.counters.blobsRead++;
      this.counters.bytesRead += data.length;
      return data;
    } finally {
      await handle.close();
    }
  }

  async put(digest: string, content: Readable): Promise<void> {
    const target = this.path(digest);
    const shard = digest.slice(0, 2);
    await this.shard(shard);
    // Temp files are named so that `list` never takes them for blobs (they are not 64 hex digits).
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    let bytes = 0;
    content.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    try {
      await pipeline(content, createWriteStream(temp)).catch((e: NodeJS.ErrnoException) => {
        throw this.vanished(shard, e);
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
      const { size } = await stat(this.path(digest));
      return size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}
