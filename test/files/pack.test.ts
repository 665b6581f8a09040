import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { joinParts, readPack, writePack, writePackWeb, type PackEntry } from '../../src/files/pack.js';

const exec = promisify(execFile);

/** Entries in a form vitest compares quickly (deep-equal on big Buffers is slow). */
const summary = (list: PackEntry[]) => list.map((e) => `${e.name}:${e.data.toString('base64')}`);

async function collect(stream: AsyncIterable<Buffer>, maxEntry?: number): Promise<PackEntry[]> {
  const out: PackEntry[] = [];
  for await (const e of readPack(stream, maxEntry)) out.push({ name: e.name, data: joinParts(e.parts) });
  return out;
}

/** Re-chunk a buffer into pieces of `size` bytes, as a network would. */
function chunks(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

describe('packs', () => {
  const entries: PackEntry[] = [
    { name: 'a'.repeat(64), data: Buffer.from('hello') },
    { name: 'b'.repeat(64), data: Buffer.alloc(0) },
    { name: 'c'.repeat(64), data: Buffer.alloc(512, 7) },
    { name: 'd'.repeat(64), data: randomBytes(100_000) },
    { name: 'e'.repeat(64), data: randomBytes(70_001) },
  ];

  it('entries read back as written, however the stream is chunked', async () => {
    const packed = await buffer(writePack(entries));
    for (const size of [7, 97, 511, 512, 4096, 65_536, packed.length]) {
      expect(summary(await collect(chunks(packed, size)))).toEqual(summary(entries));
    }
  });

  it('hands each entry on as views of the chunks it arrived in, none copied', async () => {
    const packed = await buffer(writePack(entries));
    const arrived = chunks(packed, 4096);
    const sources = new Set<ArrayBufferLike>();
    const seen = async function* () {
      for await (const chunk of arrived) {
        sources.add((chunk as Buffer).buffer);
        yield chunk as Buffer;
      }
    };
    for await (const e of readPack(seen())) {
      expect(e.parts.every((p) => sources.has(p.buffer))).toBe(true);
      expect(e.parts.reduce((n, p) => n + p.length, 0)).toBe(e.size);
      if (e.size > 4096) expect(e.parts.length).toBeGreaterThan(1);
    }
  });

  it('is a tar archive that tar itself reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-pack-'));
    try {
      await writeFile(join(dir, 'p.tar'), await buffer(writePack(entries)));
      await exec('tar', ['-xf', 'p.tar'], { cwd: dir });
      expect(await readFile(join(dir, 'a'.repeat(64)), 'utf8')).toBe('hello');
      expect((await readFile(join(dir, 'd'.repeat(64)))).equals(entries[3]!.data)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a pack cut off inside an entry or before its end is an error, not a short read', async () => {
    const packed = await buffer(writePack(entries));
    await expect(collect(chunks(packed.subarray(0, 1500), 100))).rejects.toThrow(/cut off|end-of-archive/);
    await expect(collect(chunks(packed.subarray(0, packed.length - 1024), 100))).rejects.toThrow(
      'pack ends without its end-of-archive blocks (cut off?)',
    );
  });

  it('refuses entries over the size limit and damaged headers', async () => {
    const packed = await buffer(writePack(entries));
    await expect(collect(chunks(packed, 4096), 1000)).rejects.toThrow(
      `pack entry '${'d'.repeat(64)}' is 100000 bytes; at most 1000 fit a pack`,
    );
    const damaged = Buffer.from(packed);
    damaged[10] = 0x41;
    await expect(collect(chunks(damaged, 4096))).rejects.toThrow('pack has a damaged entry header');
  });

  it('as a web stream, the same bytes, its chunks views of the entries rather than copies', async () => {
    const entries = [
      { name: 'a'.repeat(64), data: Buffer.from('hello') },
      { name: 'b'.repeat(64), data: Buffer.alloc(1000, 7) },
    ];
    const chunks: Uint8Array[] = [];
    for await (const chunk of writePackWeb(entries)) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(await buffer(writePack(entries)))).toBe(true);
    expect(chunks.some((c) => c.buffer === entries[1]!.data.buffer)).toBe(true);
  });
});
