import { describe, expect, it } from 'vitest';
import { tracker, type Counts, type TransferProgress } from '../../src/files/transfer-parts.js';

describe('transfer progress', () => {
  it('counts a part that was retried once: a failed attempt takes back what it counted', async () => {
    const seen: TransferProgress[] = [];
    const track = tracker(3, 800, { onProgress: (p) => void seen.push(p) });
    track.file(100); // a part that needs no attempt of its own
    let tries = 0;
    const big = async (counts: Counts) => {
      counts.bytes(300); // half of a big file, then the first try's connection drops
      if (++tries === 1) throw new Error('socket hang up');
      counts.bytes(300);
      counts.file();
    };
    await expect(track.attempt(big)).rejects.toThrow('socket hang up');
    expect(track.progress).toMatchObject({ files: 1, bytes: 100 });
    await track.attempt(big); // the retry
    const pack = async (counts: Counts) => counts.file(100); // a pack's file, counted as it is built
    const refused = async (counts: Counts) => {
      await pack(counts);
      throw new Error('503'); // the server answered the pack with an error
    };
    await expect(track.attempt(refused)).rejects.toThrow('503');
    await track.attempt(pack);
    expect(track.progress).toEqual({ files: 3, bytes: 800, totalFiles: 3, totalBytes: 800 });
    expect(seen.at(-1)).toEqual(track.progress);
    expect(Math.max(...seen.map((p) => p.bytes))).toBeLessThanOrEqual(800);
  });
});
