import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/core/records.js';
import { resendSpool, spoolRecord } from '../../src/runner/log-spool.js';
import { olderSpool, SpoolFile } from '../../src/runner/spool-file.js';

const dir = await mkdtemp(join(tmpdir(), 'dstack-spool-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('SpoolFile', () => {
  it('is cut to nothing once every entry it holds is acknowledged, not before', async () => {
    const path = join(dir, 'a', 'log-spool.jsonl');
    const spool = new SpoolFile(path);
    spool.append([Buffer.from('one '), Buffer.from('two ')], 2);
    spool.append([Buffer.from('three ')], 1);
    spool.acknowledged(2);
    expect(await readFile(path, 'utf8')).toBe('one two three ');
    spool.acknowledged(1);
    expect(await readFile(path, 'utf8')).toBe('');
    spool.append([Buffer.from('four ')], 1);
    expect(await readFile(path, 'utf8')).toBe('four ');
    spool.close();
  });

  it('moves a full file aside while sends lag, and removes it once the server has all of it', async () => {
    const path = join(dir, 'b', 'log-spool.jsonl');
    const spool = new SpoolFile(path, 10);
    spool.append([Buffer.from('0123456789')], 1); // full: the next append starts a new generation
    spool.append([Buffer.from('abcdefghij')], 1);
    expect(await readFile(olderSpool(path), 'utf8')).toBe('0123456789');
    expect(await readFile(path, 'utf8')).toBe('abcdefghij');
    // While the older generation waits, the current one grows past the mark instead of rotating again.
    spool.append([Buffer.from('KLMNO')], 1);
    expect(await readFile(path, 'utf8')).toBe('abcdefghijKLMNO');
    spool.acknowledged(1);
    expect(await exists(olderSpool(path))).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('abcdefghijKLMNO');
    spool.acknowledged(2);
    expect(await readFile(path, 'utf8')).toBe('');
    spool.close();
  });

  it('is read back by a restarted runner older generation first, then both are removed', async () => {
    const path = join(dir, 'c', 'log-spool.jsonl');
    const spool = new SpoolFile(path, 1);
    const entry = (seq: number): LogEntry => ({ seq, ts: seq, stream: 'stdout', text: `line ${seq}` });
    for (const seq of [1, 2, 3]) spool.append(spoolRecord([entry(seq)], [Buffer.from(`line ${seq}`)]), 1);
    spool.close(); // the crash: nothing acknowledged
    expect(await exists(olderSpool(path))).toBe(true);
    const sent: number[] = [];
    await resendSpool(path, async (entries) => void sent.push(...entries.map((e) => e.seq)));
    expect(sent).toEqual([1, 2, 3]);
    expect([await exists(path), await exists(olderSpool(path))]).toEqual([false, false]);
  });
});
