/**
 * Virtualenvs of python jobs, cached on the runner under its work dir: one per interpreter
 * (or image) and requirements content, built once and reused by every job that asks the same.
 * A folder is used only once it is marked ready, so a build that failed or was cut short by a
 * crash is built again.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const READY = '.dstack-ready';

/** The folder for a virtualenv of `runtime` (an interpreter and its version, or an image) and requirements. */
export function venvDir(workRoot: string, runtime: string, requirements: string): string {
  const key = createHash('sha256').update(runtime).update('\0').update(requirements).digest('hex').slice(0, 20);
  return join(workRoot, 'venvs', key);
}

export async function isReady(dir: string): Promise<boolean> {
  return (await readFile(join(dir, READY), 'utf8').catch(() => undefined)) !== undefined;
}

export async function markReady(dir: string, what: string): Promise<void> {
  await writeFile(join(dir, READY), what + '\n');
}

export async function discard(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

const locks = new Map<string, Promise<void>>();

/**
 * Hold `dir` until `release` is called: two jobs that need the same virtualenv at once build
 * it once (one runner process owns a work dir, so a lock in memory is enough).
 */
export async function lockVenv(dir: string): Promise<() => void> {
  const before = locks.get(dir) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const chained = before.then(() => mine);
  locks.set(dir, chained);
  await before;
  return () => {
    release();
    if (locks.get(dir) === chained) locks.delete(dir);
  };
}
