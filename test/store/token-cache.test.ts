import { describe, expect, it } from 'vitest';
import { TOKEN_CACHE_MS, TokenCache } from '../../src/server/store/token-cache.js';
import type { TokenRecord } from '../../src/server/store/store.js';

const token: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: false, createdAt: 1 };

describe('TokenCache', () => {
  it('forgets a token once its lifetime has passed, so a delete elsewhere takes effect', () => {
    let now = 1000;
    const cache = new TokenCache(() => now);
    cache.set(token, cache.mark());
    expect(cache.get(token.hash)).toStrictEqual(token);
    now += TOKEN_CACHE_MS;
    expect(cache.get(token.hash)).toBeUndefined();
  });

  it('does not keep what a look-up read when a clear (a delete) happened during it', () => {
    const cache = new TokenCache();
    const mark = cache.mark();
    cache.clear();
    cache.set(token, mark);
    expect(cache.get(token.hash)).toBeUndefined();
  });
});
