import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HashCache } from '../../src/files/hash-cache.js';
import { describeArtifact } from '../../src/files/manifest.js';

const work = await mkdtemp(join(tmpdir(), 'dstack-hash-cache-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const LONG_AGO = new Date('2020-01-01T00:00:00Z');

/** A file written long ago, as far as its modification time says. */
async function oldFile(path: string, content: string, when = LONG_AGO): Promise<void> {
  await writeFile(path, content);
  await utimes(path, when, when);
}

const digests = async (root: string, cache: HashCache) =>
  Object.fromEntries((await describeArtifact(root, 'out', cache))!.map((e) => [e.path, e.digest]));

describe('hashing artifacts with a cache of earlier digests', () => {
  it('does not read a file again whose inode, size and modification time are unchanged', async () => {
    const root = join(work, 'same');
    await mkdir(join(root, 'out'), { recursive: true });
    await oldFile(join(root, 'out', 'a.bin'), 'aaaa');
    const cache = new HashCache();
    expect(await digests(root, cache)).toEqual({ 'out/a.bin': sha('aaaa') });
    // Same size, time put back: only a cache that skipped reading still says 'aaaa'.
    await oldFile(join(root, 'out', 'a.bin'), 'bbbb');
    expect(await digests(root, cache)).toEqual({ 'out/a.bin': sha('aaaa') });
  });

  it('hashes again a file whose modification time, size or inode changed', async () => {
    const root = join(work, 'changed');
    await mkdir(join(root, 'out'), { recursive: true });
    for (const name of ['touched', 'grown', 'replaced']) await oldFile(join(root, 'out', name), 'old!');
    const cache = new HashCache();
    await digests(root, cache);
    await oldFile(join(root, 'out', 'touched'), 'new!', new Date('2021-01-01T00:00:00Z'));
    await oldFile(join(root, 'out', 'grown'), 'longer');
    // A new file renamed in (a new inode) with the old one's size and time.
    await oldFile(join(root, 'new'), 'NEW!');
    await rename(join(root, 'new'), join(root, 'out', 'replaced'));
    expect(await digests(root, cache)).toEqual({
      'out/grown': sha('longer'),
      'out/replaced': sha('NEW!'),
      'out/touched': sha('new!'),
    });
  });

  it('does not trust a file modified just before it was hashed (a write in the same clock tick would not show)', async () => {
    const root = join(work, 'racy');
    await mkdir(join(root, 'out'), { recursive: true });
    const now = new Date();
    await oldFile(join(root, 'out', 'fresh'), 'one', now);
    const cache = new HashCache();
    await digests(root, cache);
    await oldFile(join(root, 'out', 'fresh'), 'two', now);
    expect(await digests(root, cache)).toEqual({ 'out/fresh': sha('two') });
    expect(cache.size).toBe(0);
  });

  it('forgets the oldest entries past its limit', async () => {
    const root = join(work, 'limit');
    await mkdir(join(root, 'out'), { recursive: true });
    for (let i = 0; i < 5; i++) await oldFile(join(root, 'out', `f${i}`), `content ${i}`);
    const cache = new HashCache(3);
    await digests(root, cache);
    expect(cache.size).toBe(3);
  });
});
