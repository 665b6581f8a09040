/** The first admin: created at a server's first start, its token written once to a 0600 file. */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { explainWrite } from '../files/refused-write.js';
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
  // Whole or not at all (a full disk): a CLI must never read half a token, or none, from it.
  const temp = `${file}.tmp`;
  try {
    await writeFile(temp, token + '\n', { mode: 0o600 });
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw explainWrite(e, dirname(file), `writing the admin token to ${file}`);
  }
  return token;
}
