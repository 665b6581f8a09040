import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inSlices, makeFolders, SMALL_FILE, writeNew } from '../../src/files/raw-fs.js';

describe('synchronous calls in slices', () => {
  it('returns every result in order and lets the event loop run between slices', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    // Queued before the calls start: it runs at the first pause between slices, not before.
    let otherWork = false;
    setImmediate(() => (otherWork = true));
    const seen: boolean[] = [];
    const out = await inSlices(items, (i) => {
      seen.push(otherWork);
      return i * 2;
    });
    expect(out).toEqual(items.map((i) => i * 2));
    expect(seen[0]).toBe(false);
    expect(seen.indexOf(true)).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(true);
  });

  it('passes on what a call throws', async () => {
    await expect(
      inSlices([1, 2, 3], (i) => {
        if (i === 2) throw new Error('boom');
        return i;
      }),
    ).rejects.toThrow('boom');
  });
});

describe('makeFolders', () => {
  it('answers as mkdir -p: the first folder it made, undefined for a folder that was there, an error for a file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dstack-folders-'));
    try {
      expect(makeFolders(join(root, 'a'))).toBe(join(root, 'a'));
      expect(makeFolders(join(root, 'a', 'b', 'c'))).toBe(join(root, 'a', 'b'));
      expect((await stat(join(root, 'a', 'b', 'c'))).isDirectory()).toBe(true);
      expect(makeFolders(join(root, 'a', 'b'))).toBeUndefined();
      await writeFile(join(root, 'file'), 'x');
      expect(() => makeFolders(join(root, 'file'))).toThrow(/EEXIST/);
      expect(() => makeFolders(join(root, 'file', 'sub'))).toThrow(/ENOTDIR|EEXIST/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('writeNew', () => {
  it('writes one buffer or many parts one after another, and never over an existing file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dstack-write-'));
    try {
      const data = randomBytes(300_000);
      await writeNew(join(root, 'one'), data);
      // Parts as a pack's reader hands them on: uneven, some empty, more than one writev takes at once.
      const parts: Buffer[] = [];
      for (let at = 0, n = 0; at < data.length; at += n, n = (n * 7 + 13) % 300) parts.push(data.subarray(at, at + n));
      expect(parts.length).toBeGreaterThan(1024);
      await writeNew(join(root, 'parts'), parts, 0o600);
      expect((await readFile(join(root, 'one'))).equals(data)).toBe(true);
      expect((await readFile(join(root, 'parts'))).equals(data)).toBe(true);
      expect((await stat(join(root, 'parts'))).mode & 0o777).toBe(0o600);
      await writeNew(join(root, 'empty'), []);
      expect((await stat(join(root, 'empty'))).size).toBe(0);
      await expect(writeNew(join(root, 'one'), [data])).rejects.toThrow(/EEXIST/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('writes a small file in place alike: its parts, its mode, never over an existing file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dstack-write-'));
    try {
      const data = randomBytes(SMALL_FILE);
      await writeNew(join(root, 'small'), [data.subarray(0, 10), Buffer.alloc(0), data.subarray(10)], 0o640);
      expect((await readFile(join(root, 'small'))).equals(data)).toBe(true);
      expect((await stat(join(root, 'small'))).mode & 0o777).toBe(0o640 & ~process.umask());
      let seen = -1;
      await writeNew(join(root, 'checked'), data, 0o755, async (file) => {
        seen = await file.mode();
        await file.chmod(0o700);
      });
      expect(seen).toBe(0o755 & ~process.umask());
      expect((await stat(join(root, 'checked'))).mode & 0o777).toBe(0o700);
      await expect(writeNew(join(root, 'small'), data)).rejects.toThrow(/EEXIST/);
      expect((await readFile(join(root, 'small'))).equals(data)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('writes in place up to the limit it is given: the file is created before the call returns', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dstack-write-'));
    try {
      const data = randomBytes(SMALL_FILE + 1);
      const inPlace = writeNew(join(root, 'in-place'), data, 0o644, undefined, 2 * SMALL_FILE);
      expect(existsSync(join(root, 'in-place'))).toBe(true); // opened in the call itself
      await inPlace;
      expect((await readFile(join(root, 'in-place'))).equals(data)).toBe(true);
      await writeNew(join(root, 'pooled'), data); // over SMALL_FILE: through libuv's pool
      expect((await readFile(join(root, 'pooled'))).equals(data)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
