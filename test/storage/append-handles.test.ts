/** Appends through kept-open handles: each lands whole and in order, and no handle outlives its use. */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendHandles } from '../../src/server/storage/append-handles.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dstack-append-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const openFds = async () => (await readdir('/proc/self/fd')).length;

describe('AppendHandles', () => {
  it('appends through one handle per file, in order, and closes it on request', async () => {
    const handles = new AppendHandles();
    const file = join(dir, 'a.log');
    const before = await openFds();
    for (let i = 0; i < 50; i++) await handles.use(file, (h) => h.write(`line ${i}\n`));
    expect(await openFds()).toBe(before + 1); // one handle kept, not one per append
    await handles.close(file);
    expect(await openFds()).toBe(before);
    await handles.use(file, (h) => h.write('after\n')); // opened again, appending
    await handles.close(file);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[0]).toBe('line 0');
    expect(lines.at(-1)).toBe('after');
  });

  it('closes a file only once the append using it is done', async () => {
    const handles = new AppendHandles();
    const file = join(dir, 'b.log');
    let release!: () => void;
    const writing = handles.use(file, async (h) => {
      await new Promise<void>((r) => (release = r));
      await h.write('late but whole\n');
    });
    await new Promise((r) => setTimeout(r, 10));
    const closing = handles.close(file);
    release();
    await Promise.all([writing, closing]);
    expect(await readFile(file, 'utf8')).toBe('late but whole\n');
  });

  it('keeps at most its cap of idle files open', async () => {
    const handles = new AppendHandles();
    const before = await openFds();
    for (let i = 0; i < 200; i++) await handles.use(join(dir, `f${i}.log`), (h) => h.write('x'));
    await new Promise((r) => setTimeout(r, 50)); // evicted handles close in the background
    expect(await openFds()).toBeLessThanOrEqual(before + 128);
    for (let i = 0; i < 200; i++) await handles.close(join(dir, `f${i}.log`));
    expect(await openFds()).toBe(before);
  });

  it('opens the file anew after a failed append, and passes the failure on', async () => {
    const handles = new AppendHandles();
    const file = join(dir, 'c.log');
    await expect(handles.use(file, () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    await handles.use(file, (h) => h.write('ok\n'));
    await handles.close(file);
    expect(await readFile(file, 'utf8')).toBe('ok\n');
  });
});
