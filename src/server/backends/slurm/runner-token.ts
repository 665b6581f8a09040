/**
 * The Slurm runner's token: one per server data dir, kept in a 0600 file there, so that
 * batch jobs submitted before a server restart can still report to the restarted server.
 * Each batch job gets a copy in its own 0600 file, which the one-shot runner deletes once read.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashToken, issueToken } from '../../auth.js';
import type { Store } from '../../store/store.js';

export async function ensureRunnerToken(store: Store, name: string, file: string): Promise<string> {
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) {
    const record = await store.findToken(hashToken(existing));
    if (record?.kind === 'runner' && record.name === name) return existing;
  }
  // Lost, or revoked with `dstack runners delete`: a new one replaces every old one.
  await store.deleteTokens('runner', name);
  const token = await issueToken(store, 'runner', name, false);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, token + '\n', { mode: 0o600 });
  return token;
}
