/**
 * Virtualenvs of python jobs, cached on the runner under its work dir: one per user, interpreter
 * (or image), requirements content and pip's settings (`PIP_*`), built once and reused by that
 * user's later jobs that ask the same. Keyed by user, as the git mirrors are, so that what one
 * user's job installed or changed never runs in another's.
 *
 * Each is a folder `venvs/<key>/` holding the virtualenv, `env/` (the only part a job sees: in a
 * container it is mounted, writable while it is built), and beside it the mark that it is
 * ready. The mark lives where no container can write, so that a job cannot make it a link to a
 * file of the host for the runner to write through, nor mark a half-built virtualenv ready;
 * it is written only as a new file (O_EXCL: never through a link) and read without following
 * one. A virtualenv is used only once marked, so a build that failed or was cut short by a
 * crash is built again. The mark's time is the virtualenv's last use, set at each job's start
 * and end; the runner removes those long unused, or the least recently used past a total size,
 * never one a job holds (venv-eviction.ts).
 */
import { createHash } from 'node:crypto';
import { lstat, lutimes, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CachedVenv {
  /** The virtualenv itself. */
  env: string;
  /** Its ready mark, beside it. */
  mark: string;
  /** The folder of both: what a failed build discards. */
  folder: string;
}

/**
 * The cached virtualenv of `user` for `runtime` (an interpreter and its version, or an image),
 * requirements and pip's settings of the setup's environment (`PIP_INDEX_URL`: what pip reads
 * besides the file), in any order, and `wheels`, the listing of the folders of wheels they name
 * (wheel-folders.ts).
 */
export function cachedVenv(
  workRoot: string,
  user: string,
  runtime: string,
  requirements: string,
  pipSettings: Readonly<Record<string, string>> = {},
  wheels = '',
): CachedVenv {
  const settings = Object.keys(pipSettings)
    .sort()
    .map((name) => `\0${name}=${pipSettings[name]}`)
    .join('');
  // With no settings, the key of the versions before them: their virtualenvs stay in use.
  const listing = wheels === '' ? '' : `\0\0${wheels}`;
  const key = createHash('sha256')
    .update(`${user}\0${runtime}\0${requirements}${settings}${listing}`)
    .digest('hex')
    .slice(0, 32);
  return venvAt(join(venvsFolder(workRoot), key));
}

/** Where a runner keeps them: a folder each, named by its key. */
export function venvsFolder(workRoot: string): string {
  return join(workRoot, 'venvs');
}

/** The cached virtualenv of the folder `venvs/<key>`. */
export function venvAt(folder: string): CachedVenv {
  return { env: join(folder, 'env'), mark: join(folder, 'ready'), folder };
}

export async function isReady(venv: CachedVenv): Promise<boolean> {
  const found = await lstat(venv.mark).catch(() => undefined);
  return found?.isFile() === true;
}

export async function markReady(venv: CachedVenv, what: string): Promise<void> {
  await writeFile(venv.mark, what + '\n', { flag: 'wx' });
}

/** Record a use: the mark's time, set without following a link (a host job can write anything of its user's). */
export async function touchVenv(venv: CachedVenv): Promise<void> {
  const now = new Date();
  if (await isReady(venv)) await lutimes(venv.mark, now, now).catch(() => {});
}

export async function discard(venv: CachedVenv): Promise<void> {
  await rm(venv.folder, { recursive: true, force: true });
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

/** How many jobs hold each cached folder: from before they take its lock until they end. */
const holders = new Map<string, number>();

/** Keep `venv` from eviction while a job builds or runs with it; the returned function lets go, recording the use. */
export function holdVenv(venv: CachedVenv): () => Promise<void> {
  holders.set(venv.folder, (holders.get(venv.folder) ?? 0) + 1);
  let held = true;
  return async () => {
    if (!held) return;
    held = false;
    await touchVenv(venv); // before letting go: a pass that sees it free sees this use
    const left = holders.get(venv.folder)! - 1;
    if (left > 0) holders.set(venv.folder, left);
    else holders.delete(venv.folder);
  };
}

export function venvInUse(folder: string): boolean {
  return holders.has(folder);
}
