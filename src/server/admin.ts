/** The first admin: created at a server's first start, its token written once to a 0600 file. */
import { readFile, writeFile } from 'node:fs/promises';
import { hashToken, issueToken } from './auth.js';
import type { Store } from './store/store.js';

/**
 * Make sure `file` holds a valid admin token. When a new one is made (first start, or the
 * file was lost), it is written there (mode 0600) and returned so the caller can show it once.
 */
export async function ensureAdmin(store: Store, file: string): Promise<string | undefined> {
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing && (await store.findToken(hashToken(existing)))) return undefined;
  const token = await issueToken(store, 'user', 'admin', true);
  await writeFile(file, token + '\n', { mode: 0o600 });
  return token;
}
