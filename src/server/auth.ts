/**
 * Tokens: random, shown once, stored only as their sha256. Looking a token up by its
 * hash keeps the comparison independent of how much of a guess was right.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store, TokenRecord } from './store/store.js';

export function newToken(): string {
  return `dst_${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function authenticate(store: Store, header: string | undefined): Promise<TokenRecord | undefined> {
  const m = /^Bearer\s+(\S+)$/.exec(header ?? '');
  if (!m) return undefined;
  return store.findToken(hashToken(m[1]!));
}

export async function issueToken(
  store: Store,
  kind: TokenRecord['kind'],
  name: string,
  admin: boolean,
): Promise<string> {
  const token = newToken();
  await store.createToken({ hash: hashToken(token), kind, name, admin, createdAt: Date.now() });
  return token;
}

/**
 * A new token for `name` in place of all its tokens, which stop working at once; undefined
 * when `name` has none. Shown once, as an issued one is.
 */
export async function replaceToken(store: Store, kind: TokenRecord['kind'], name: string): Promise<string | undefined> {
  const token = newToken();
  return (await store.replaceTokens(kind, name, hashToken(token))) ? token : undefined;
}
