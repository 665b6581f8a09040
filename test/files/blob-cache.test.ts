import { describe, expect, it } from 'vitest';
import { BlobCache } from '../../src/files/blob-cache.js';

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('BlobCache', () => {
  it('drops the least recently used blobs to stay within its budget', () => {
    const cache = new BlobCache(300, 100);
    cache.set('a', bytes(100, 1));
    cache.set('b', bytes(100, 2));
    cache.set('c', bytes(100, 3));
    expect(cache.get('a')?.[0]).toBe(1); // a is now the most recent: b goes first
    cache.set('d', bytes(100, 4));
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a')?.[0], cache.get('c')?.[0], cache.get('d')?.[0]]).toEqual([1, 3, 4]);
    expect(cache.size).toEqual({ blobs: 3, bytes: 300 });
  });

  it('keeps no blob over its largest size, and a copy of what it keeps', () => {
    const cache = new BlobCache(1000, 100);
    cache.set('big', bytes(101, 1));
    expect(cache.get('big')).toBeUndefined();
    const chunk = bytes(200, 7);
    cache.set('view', chunk.subarray(0, 50));
    chunk.fill(0);
    expect(cache.get('view')).toEqual(bytes(50, 7));
    expect(cache.get('view')?.buffer).not.toBe(chunk.buffer);
  });
});
