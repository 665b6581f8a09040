/** BlobStore on local disk: `<root>/ab/abcdef…`, written to a temp file and renamed into place. */
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { blobPath, DIGEST } from '../../files/blob-path.js';
import {
  asError,
  type HashFileResult,
  type StoreFilesResult,
  type WriteBlobsJob,
  type WriteOutcome,
} from '../../files/file-jobs.js';
import { fileJob } from '../../files/file-workers.js';
import { inSlices, readWhole } from '../../files/raw-fs.js';
import { emptyStats, type BlobBytes, type BlobStore, type BlobStoreStats } from './blob-store.js';
import { makeFolder } from '../../files/make-folder.js';

/** Every temp file of the store ends so (file-job-calls.ts names those of `store-files` alike). */
const TEMP_SUFFIX = '.tmp';
const SHARD = /^[0-9a-f]{2}$/;

export class LocalBlobStore implements BlobStore {
  private readonly counters = emptyStats();
  /** Shard folders created (or being created): a put of many small blobs skips a mkdir each. */
  private readonly shards = new Map<string, Promise<unknown>>();

  /** Temp names: unique in this process by the counter, across processes by the random prefix. */
  private readonly tempPrefix = `${randomBytes(6).toString('hex')}-`;
  private temps = 0;

  /** `root`: the folder of blob files, which a CLI on this machine may copy from (`server.json`). */
  constructor(readonly root: string) {}

  /** A temp file beside `target`, named so that `list` never takes it for a blob (not 64 hex digits). */
  private temp(target: string): string {
    return `${target}.${this.nextTemp()}${TEMP_SUFFIX}`;
  }

  private nextTemp(): string {
    return `${this.tempPrefix}${++this.temps}`;
  }

  private path(digest: string): string {
    return blobPath(this.root, digest);
  }

  stats(): BlobStoreStats {
    return { ...this.counters };
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    // Every digest is checked on disk, never remembered: a blob deleted by hand must read as missing.
    const unique = [...new Set(digests)];
    const checks = await inSlices(unique, (d) => (this.exists(d) ? null : d));
    return checks.filter((d): d is string => d !== null);
  }

  /**
   * `access`: no stats object, for the thousands of digests of an upload plan or a manifest;
   * synchronous, in slices (raw-fs.ts inSlices): a fifth of the event loop's time of the callback call.
   */
  private exists(digest: string): boolean {
    const path = this.path(digest);
    try {
      accessSync(path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  /** Create the blob's shard folder once, however many puts into it run at the same time. */
  private async shard(shard: string): Promise<void> {
    let made = this.shards.get(shard);
    if (!made) {
      made = makeFolder(join(this.root, shard));
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
   * Blobs whose content is in memory (a pack's entries), in one file job (a worker thread's
   * when big: files/file-workers.ts): each checked against its digest before anything
   * touches the disk, then written to a temp file and renamed into place.
   */
  async putMany(blobs: readonly BlobBytes[]): Promise<(Error | undefined)[]> {
    const outcomes: (Error | undefined)[] = [];
    const writes: WriteBlobsJob['blobs'] = [];
    const written: number[] = [];
    for (const [i, { digest, parts, hashedHere }] of blobs.entries()) {
      try {
        const target = this.path(digest);
        await this.shard(digest.slice(0, 2));
        const spans = parts.map((p) => ({ buffer: p.buffer, offset: p.byteOffset, length: p.length }));
        writes.push({ digest, temp: this.temp(target), target, hashed: hashedHere === true, parts: spans });
        written.push(i);
      } catch (e) {
        outcomes[i] = e as Error;
      }
    }
    const results = writes.length > 0 ? await fileJob({ op: 'write-blobs', blobs: writes }) : [];
    results.forEach((result, k) => {
      const { digest, parts, hashedHere } = blobs[written[k]!]!;
      outcomes[written[k]!] = result && this.failure(digest, result);
      if (result) return;
      this.counters.blobsWritten++;
      this.counters.bytesWritten += parts.reduce((n, p) => n + p.length, 0);
      if (hashedHere) this.counters.blobsHashedHere++;
    });
    return Array.from(blobs, (_, i) => outcomes[i]);
  }

  /**
   * The blob of a file on this machine (the embedded runner's big artifact files), hashed
   * and copied in one read on a worker thread, under its digest: a temp file in the store's
   * folder (not a shard's: its digest is known only at the end), renamed into place.
   */
  async putFile(path: string, size: number): Promise<HashFileResult> {
    const temp = join(this.root, `file.${this.nextTemp()}${TEMP_SUFFIX}`);
    await makeFolder(this.root);
    const result = await fileJob({ op: 'hash-file', path, size, store: { temp, folder: this.root } });
    if (result.stored) {
      this.counters.blobsWritten++;
      this.counters.bytesWritten += size;
    }
    return result;
  }

  /**
   * Small files on this machine (the embedded runner's artifacts), each read once on a worker
   * thread (for a batch over a megabyte), hashed, and written under its digest unless stored
   * already: no pack, no request, no copy through the server's thread.
   */
  async putFiles(files: { path: string; size: number }[]): Promise<StoreFilesResult> {
    const result = await fileJob({ op: 'store-files', files, folder: this.root, tempPrefix: this.nextTemp() });
    result.stored.forEach((stored, i) => {
      if (!stored) return;
      this.counters.blobsWritten++;
      this.counters.bytesWritten += files[i]!.size;
    });
    return result;
  }

  private failure(digest: string, result: NonNullable<WriteOutcome>): Error {
    if ('actual' in result)
      return new InvalidError(`blob content does not match its digest (expected ${digest}, got ${result.actual})`);
    return this.vanished(digest.slice(0, 2), asError(result.error));
  }

  /** A blob of at most `max` bytes in memory (entries of a pack download): one open, no separate stat. */
  async getBytes(digest: string, max: number): Promise<Buffer> {
    let data;
    try {
      data = await readWhole(this.path(digest), max, {
        tooBig: () => new InvalidError(`blob ${digest} is over ${max} bytes, too big for a pack`),
        short: () => new UnavailableError(`blob ${digest} was cut short while it was read`),
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`blob ${digest} is not stored`);
      throw e;
    }
    this.counters.blobsRead++;
    this.counters.bytesRead += data.length;
    return data;
  }

  async put(digest: string, content: Readable): Promise<void> {
    const target = this.path(digest);
    const shard = digest.slice(0, 2);
    await this.shard(shard);
    const temp = this.temp(target);
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
    for (const dir of dirs.filter((d) => SHARD.test(d))) {
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

  /** Temp files (`….tmp`: beside their blob in its shard, or `file.….tmp` in the root) not written to since `before`. */
  async removeLeftovers(before: number): Promise<{ files: number; bytes: number }> {
    const removed = { files: 0, bytes: 0 };
    const sweep = async (dir: string, names: string[]) => {
      for (const name of names) {
        if (!name.endsWith(TEMP_SUFFIX)) continue;
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile() || info.mtimeMs >= before) continue;
        await rm(path, { force: true });
        removed.files++;
        removed.bytes += info.size;
      }
    };
    const names = await readdir(this.root).catch(() => []);
    await sweep(this.root, names);
    for (const shard of names.filter((name) => SHARD.test(name))) {
      const folder = join(this.root, shard);
      await sweep(folder, await readdir(folder).catch(() => []));
    }
    return removed;
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

/** The folder of `store`'s blob files when they are on this machine's disk, for local copies (files/local-copy.ts). */
export function localFolder(store: BlobStore): string | undefined {
  return store instanceof LocalBlobStore ? resolve(store.root) : undefined;
}
