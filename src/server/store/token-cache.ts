/**
 * Found tokens, remembered briefly: every API request looks its token up, and a runner
 * makes several requests per job. Only hits are kept (a token created a moment ago is
 * found at once); deleting tokens here clears the cache, and the short lifetime bounds
 * how long a token deleted by another process (a second server on the same PostgreSQL)
 * keeps working.
 */
import type { TokenRecord } from './store.js';

/** How long a found token is trusted without asking the database again, ms. */
export const TOKEN_CACHE_MS = 5_000;
/** Entries before the cache starts over: tokens are few; this only bounds a flood of distinct ones. */
const MAX_ENTRIES = 1_000;

export class TokenCache {
  private readonly entries = new Map<string, { token: TokenRecord; until: number }>();
  /** Bumped by every clear: a look-up that started before a delete must not cache what it read. */
  private generation = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get(hash: string): TokenRecord | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    if (entry.until > this.now()) return { ...entry.token };
    this.entries.delete(hash);
    return undefined;
  }

  /** Where a look-up starts: pass it to `set` with what the look-up found. */
  mark(): number {
    return this.generation;
  }

  set(token: TokenRecord, mark: number): void {
    if (mark !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(token.hash, { token: { ...token }, until: this.now() + TOKEN_CACHE_MS });
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
