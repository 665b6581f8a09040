/**
 * The runner's repo cache: one `git clone --mirror` per user and remote under
 * `<workRoot>/repos/`, fetched again only when a job needs a commit it lacks. Keyed by
 * user too, so that one user's clone (made with their credentials) never serves another.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../core/errors.js';
import { git, GitError, type GitContext } from './git.js';

/** Where the mirror of `user`'s `remote` lives. */
export function mirrorPath(workRoot: string, user: string, remote: string): string {
  const id = createHash('sha256').update(`${user}\0${remote}`).digest('hex').slice(0, 32);
  return join(workRoot, 'repos', `${id}.git`);
}

/** Jobs of one run start together: one clone or fetch per mirror at a time, the others wait for it. */
const busy = new Map<string, Promise<unknown>>();

function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = busy.get(key) ?? Promise.resolve();
  const result = previous.then(fn, fn);
  const tail = result.catch(() => undefined);
  busy.set(key, tail);
  void tail.then(() => busy.get(key) === tail && busy.delete(key));
  return result;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function hasCommit(mirror: string, commit: string, ctx: GitContext): Promise<boolean> {
  try {
    await git(['cat-file', '-e', `${commit}^{commit}`], ctx, mirror);
    return true;
  } catch (e) {
    if (e instanceof GitError) return false;
    throw e;
  }
}

/**
 * Make sure the mirror of `remote` has `commit`: clone it the first time, fetch when the
 * commit is new to it. Returns the mirror's path; throws GitError when git fails and
 * NotFoundError when the remote does not have the commit (it was never pushed).
 */
export async function mirrorWithCommit(
  workRoot: string,
  user: string,
  remote: string,
  commit: string,
  ctx: GitContext,
): Promise<string> {
  const mirror = mirrorPath(workRoot, user, remote);
  return exclusive(mirror, async () => {
    if (await exists(mirror)) {
      if (await hasCommit(mirror, commit, ctx)) return mirror;
      await git(['fetch', '--prune', '--quiet', 'origin'], ctx, mirror);
    } else {
      await mkdir(join(workRoot, 'repos'), { recursive: true });
      // Clone beside it and rename into place: a clone cut short never looks like a mirror.
      const temp = `${mirror}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await git(['clone', '--mirror', '--quiet', '--', remote, temp], ctx);
        await rename(temp, mirror).catch((e: NodeJS.ErrnoException) => {
          // Another runner process on this work dir got there first: its mirror is as good.
          if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
        });
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    }
    if (!(await hasCommit(mirror, commit, ctx))) {
      throw new NotFoundError(`commit ${commit} is not in ${remote} (was it pushed?)`);
    }
    return mirror;
  });
}
