import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPack, readPack, writePack, type PackEntry } from '../../src/files/pack.js';

const exec = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), 'dstack-pack-build-'));
afterAll(() => rm(work, { recursive: true, force: true }));

describe('buildPack', () => {
  it('builds from files the same tar that writePack streams, which tar itself reads', async () => {
    const contents = ['', 'x', 'a'.repeat(511), 'b'.repeat(512), 'c'.repeat(513), 'd'.repeat(100_000)];
    const files = await Promise.all(
      contents.map(async (content, i) => {
        const path = join(work, `f${i}`);
        await writeFile(path, content);
        return { name: `entry-${i}`, path, size: Buffer.byteLength(content) };
      }),
    );
    let counted = 0;
    const built = await buildPack(files, (n) => (counted += n));
    expect(counted).toBe(contents.reduce((n, c) => n + c.length, 0));
    const entries: PackEntry[] = contents.map((c, i) => ({ name: `entry-${i}`, data: Buffer.from(c) }));
    const chunks: Buffer[] = [];
    for await (const chunk of writePack(entries)) chunks.push(chunk as Buffer);
    expect(built.equals(Buffer.concat(chunks))).toBe(true);
    const read: string[] = [];
    for await (const e of readPack(Readable.from([built]))) read.push(`${e.name}:${e.size}`);
    expect(read).toEqual(contents.map((c, i) => `entry-${i}:${c.length}`));
    await writeFile(join(work, 'pack.tar'), built);
    const { stdout } = await exec('tar', ['tf', join(work, 'pack.tar')]);
    expect(stdout.trim().split('\n')).toEqual(contents.map((_, i) => `entry-${i}`));
  });

  it('refuses a file that is shorter than it was when described', async () => {
    const path = join(work, 'shrunk');
    await writeFile(path, 'short');
    await expect(buildPack([{ name: 'e', path, size: 50 }])).rejects.toThrow(
      `${path} shrank while it was being sent (5 of 50 bytes)`,
    );
  });
});
