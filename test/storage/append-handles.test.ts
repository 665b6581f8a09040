/** Appends through kept-open files: each lands whole and in order, and no file stays open past its cap or a failure. */
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
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
const text = (s: string) => [Buffer.from(s)];

describe('AppendHandles', () => {
  it('appends through one open file per path, in order, and closes it on request', async () => {
    const handles = new AppendHandles();
    const file = join(dir, 'a.log');
    const before = await openFds();
    for (let i = 0; i < 50; i++) handles.append(file, text(`line ${i}\n`));
    expect(await openFds()).toBe(before + 1); // one file kept open, not one per append
    handles.close(file);
    expect(await openFds()).toBe(before);
    handles.append(file, [Buffer.from('af'), Buffer.from('ter\n')]); // opened again, appending; parts in one write
    handles.close(file);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[0]).toBe('line 0');
    expect(lines.at(-1)).toBe('after');
  });

  it('reads back what was appended, at any position, through the same open file', async () => {
    const handles = new AppendHandles();
    const file = join(dir, 'r.log');
    handles.append(file, text('0123456789'));
    const buffer = Buffer.alloc(4);
    expect(handles.read(file, buffer, 3)).toBe(4);
    expect(buffer.toString()).toBe('3456');
    expect(handles.read(file, buffer, 8)).toBe(2); // short at the end
    expect(handles.read(file, buffer, 10)).toBe(0);
    handles.close(file);
  });

  it('keeps at most its cap of files open, closing the least recently used', async () => {
    const handles = new AppendHandles();
    const before = await openFds();
    for (let i = 0; i < 200; i++) handles.append(join(dir, `f${i}.log`), text('x'));
    expect(await openFds()).toBe(before + 128);
    handles.append(join(dir, 'f0.log'), text('y')); // closed by the cap: opened again, appending
    expect(await readFile(join(dir, 'f0.log'), 'utf8')).toBe('xy');
    for (let i = 0; i < 200; i++) handles.close(join(dir, `f${i}.log`));
    expect(await openFds()).toBe(before);
  });

  it('closes a file whose write failed, and passes the failure on', async () => {
    const handles = new AppendHandles();
    const before = await openFds();
    expect(() => handles.append('/dev/full', text('lost\n'))).toThrow(/ENOSPC/); // opens, then the write fails
    expect(await openFds()).toBe(before);
  });

  it('passes a failure to open on, and opens the path anew on the next call', async () => {
    const handles = new AppendHandles();
    const path = join(dir, 'c.log');
    await mkdir(path); // a folder where the log should be
    const before = await openFds();
    expect(() => handles.append(path, text('lost\n'))).toThrow(/EISDIR/);
    expect(await openFds()).toBe(before);
    await rm(path, { recursive: true });
    handles.append(path, text('ok\n'));
    handles.close(path);
    expect(await readFile(path, 'utf8')).toBe('ok\n');
  });
});
