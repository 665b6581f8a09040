/** BlobStore on local disk: `<root>/ab/abcdef…`, written to a temp file and renamed into place. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidError, NotFoundError } from '../../core/errors.js';
import { DIGEST, type BlobStore } from './blob-store.js';

export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private path(digest: string): string {
    if (!DIGEST.test(digest)) throw new InvalidError(`not a sha256 digest: '${digest}'`);
    return join(this.root, digest.slice(0, 2), digest);
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    const checks = await Promise.all(digests.map(async (d) => ((await this.size(d)) === undefined ? d : null)));
    return [...new Set(checks.filter((d): d is string => d !== null))];
  }

  async put(digest: string, content: Readable): Promise<void> {
    const target = this.path(digest);
    await mkdir(join(this.root, digest.slice(0, 2)), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    content.on('data', (chunk: Buffer) => hash.update(chunk));
    try {
      await pipeline(content, createWriteStream(temp));
      const actual = hash.digest('hex');
      if (actual !== digest)
        throw new InvalidError(`blob content does not match its digest (expected ${digest}, got ${actual})`);
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(digest: string): Promise<Readable> {
    const path = this.path(digest);
    if ((await this.size(digest)) === undefined) throw new NotFoundError(`blob ${digest} is not stored`);
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
