/**
 * The Slurm runner's token: one per server data dir, kept in a 0600 file there, so that
 * batch jobs submitted before a server restart can still report to the restarted server.
 * Each batch job gets a copy in its own 0600 file, which the one-shot runner deletes once read.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashToken, issueToken, replaceToken } from '../../auth.js';
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
  await keepRunnerToken(file, token);
  return token;
}

/** A new token in place of the runner's (`dstack runners token`): the old one is refused from now on. */
export async function replaceRunnerToken(store: Store, name: string): Promise<string> {
  return (await replaceToken(store, 'runner', name)) ?? (await issueToken(store, 'runner', name, false));
}

/** Write the token to `file` (0600) whole: a crash mid-write must not leave half a token. */
export async function keepRunnerToken(file: string, token: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.new`;
  await writeFile(temp, token + '\n', { mode: 0o600 });
  await rename(temp, file);
}
