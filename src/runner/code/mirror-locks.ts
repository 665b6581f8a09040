/**
 * What a killed git leaves in a mirror. git takes a file by creating `NAME.lock` beside it
 * (`packed-refs.lock`, `shallow.lock`, `config.lock`, `refs/heads/main.lock`) and writes a new
 * packed-refs as `packed-refs.new`; it removes them when done, at SIGTERM too. A git SIGKILLed
 * (2 s after a stop's SIGTERM it ignored, or with its runner) leaves them, and every later fetch
 * into that mirror fails for good: "Unable to create '…/refs/heads/main.lock': File exists".
 *
 * They are removed, rather than the mirror cloned again, because the runner knows they are
 * stale: it is the only writer of its mirrors (its work dir is its alone: session-file.ts), it
 * runs their git one at a time (mirror.ts's lane, whose turn ends only once git and its process
 * group have exited), and never in the background (a fetch's auto gc runs inside it:
 * `FOREGROUND_GC`). So when a fetch fails, no git of ours holds a lock in that mirror. A new
 * clone would be as safe, but costs the whole repo's download again, the minutes the cache is
 * there to save, and buys nothing: what else a killed git leaves (a `tmp_pack_*`) is never read,
 * since git renames a file into place only once it is whole.
 */
import type { Dirent } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GitError, scrub } from './git.js';

/** `git -c` settings for a fetch into a mirror: its auto gc (or maintenance) runs before it exits, not detached. */
export const FOREGROUND_GC = { 'gc.autoDetach': 'false', 'maintenance.autoDetach': 'false' };

/** Loose objects' folders: thousands of files, and never a lock. */
const LOOSE_OBJECTS = /^objects\/[0-9a-f]{2}$/;

/** The files a git that did not end cleanly left in `mirror`, as paths relative to it. */
export async function leftLocks(mirror: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(mirror, folder), { withFileTypes: true });
    } catch {
      return; // gone meanwhile, or unreadable: not a lock to remove
    }
    for (const entry of entries) {
      const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
      // A ref's name never ends in `.lock` (git refuses it), so every such file is a lock.
      if (entry.name.endsWith('.lock') || path === 'packed-refs.new') found.push(path);
      else if (entry.isDirectory() && !LOOSE_OBJECTS.test(path)) await walk(path);
    }
  };
  await walk('');
  return found.sort();
}

/**
 * Remove `locks` from `mirror` (see the top of this file for why that is safe). One that cannot
 * be removed ends the fetch that `failure` says failed, with what is left where and what to do.
 */
export async function removeLocks(
  mirror: string,
  remote: string,
  locks: readonly string[],
  failure: GitError,
  secrets: readonly string[],
): Promise<void> {
  for (const lock of locks) {
    try {
      await unlink(join(mirror, lock));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      const why = (e as Error).message;
      throw new GitError(
        scrub(
          `${failure.message}; a git process that was killed left ${join(mirror, lock)} in this runner's copy of ` +
            `${remote}, and the runner cannot remove it (${why}): remove it, or the whole ${mirror} ` +
            '(the next job clones it again)',
          secrets,
        ),
        { cause: e },
      );
    }
  }
}
