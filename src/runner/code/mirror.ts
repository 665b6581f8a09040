/**
 * The runner's repo cache: one `git clone --mirror` per user and remote under
 * `<workRoot>/repos/`, fetched again only when a job needs a commit it lacks. Keyed by
 * user too, so that one user's clone (made with their credentials) never serves another.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { unlessAborted } from '../../core/concurrency.js';
import { NotFoundError } from '../../core/errors.js';
import { withConfig } from './git-auth.js';
import { git, GitError, type GitContext } from './git.js';
import { FOREGROUND_GC, leftLocks, removeLocks } from './mirror-locks.js';
import { makeFolder } from '../../files/make-folder.js';

/** Where the mirror of `user`'s `remote` lives. */
export function mirrorPath(workRoot: string, user: string, remote: string): string {
  const id = createHash('sha256').update(`${user}\0${remote}`).digest('hex').slice(0, 32);
  return join(workRoot, 'repos', `${id}.git`);
}

/**
 * The jobs waiting on one mirror: each call runs after the one before it, and the git work
 * under way goes on while any of them still wants it.
 */
interface Lane {
  tail: Promise<unknown>;
  /** The signals of the calls not yet finished (a call without one counts as never stopped). */
  waiting: Set<AbortSignal>;
  /** Aborted once every call waiting was stopped: it ends the git process under way. */
  work: AbortController;
}

/**
 * Jobs of one run start together: one clone or fetch per mirror at a time, the others wait for
 * it. A job stopped meanwhile stops waiting at once; git is ended only once every job waiting
 * on that mirror was stopped (the others still need what it fetches).
 */
const lanes = new Map<string, Lane>();

function exclusive<T>(key: string, signal: AbortSignal | undefined, fn: (work: AbortSignal) => Promise<T>): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { tail: Promise.resolve(), waiting: new Set(), work: new AbortController() }));
  const current = lane;
  // Those it was ended for were all stopped; this call's work is its own.
  if (current.work.signal.aborted) current.work = new AbortController();
  const mine = signal ?? new AbortController().signal;
  current.waiting.add(mine);
  const stopped = () => {
    if ([...current.waiting].every((s) => s.aborted)) current.work.abort();
  };
  signal?.addEventListener('abort', stopped, { once: true });
  const run = () => {
    signal?.throwIfAborted();
    return fn(current.work.signal);
  };
  const result = current.tail.then(run, run).finally(() => {
    current.waiting.delete(mine);
    signal?.removeEventListener('abort', stopped);
  });
  const tail = result.catch(() => undefined);
  current.tail = tail;
  void tail.then(() => current.tail === tail && lanes.get(key) === current && lanes.delete(key));
  return unlessAborted(result, signal);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function hasCommit(mirror: string, commit: string, ctx: GitContext, signal: AbortSignal): Promise<boolean> {
  try {
    await git(['cat-file', '-e', `${commit}^{commit}`], ctx, mirror, signal);
    return true;
  } catch (e) {
    if (e instanceof GitError) return false;
    throw e;
  }
}

/**
 * Fetch into the mirror; a fetch that fails on the locks of a git killed before (mirror-locks.ts)
 * is tried once more without them. Runs in the mirror's lane: no other git of ours is in it.
 */
async function fetchInto(mirror: string, remote: string, ctx: GitContext, work: AbortSignal): Promise<void> {
  const fetch = () => git(['fetch', '--prune', '--quiet', 'origin'], withConfig(ctx, FOREGROUND_GC), mirror, work);
  try {
    await fetch();
  } catch (e) {
    if (!(e instanceof GitError)) throw e; // stopped
    const locks = await leftLocks(mirror);
    if (locks.length === 0) throw e;
    await removeLocks(mirror, remote, locks, e, ctx.secrets);
    await fetch();
  }
}

/**
 * Make sure the mirror of `remote` has `commit`: clone it the first time, fetch when the
 * commit is new to it. Returns the mirror's path; throws GitError when git fails and
 * NotFoundError when the remote does not have the commit (it was never pushed). `signal`
 * (the job was stopped) ends the wait at once, and the clone or fetch unless another job
 * waits for it too.
 */
export async function mirrorWithCommit(
  workRoot: string,
  user: string,
  remote: string,
  commit: string,
  ctx: GitContext,
  signal?: AbortSignal,
): Promise<string> {
  const mirror = mirrorPath(workRoot, user, remote);
  return exclusive(mirror, signal, async (work) => {
    if (await exists(mirror)) {
      if (await hasCommit(mirror, commit, ctx, work)) return mirror;
      await fetchInto(mirror, remote, ctx, work);
    } else {
      await makeFolder(join(workRoot, 'repos'));
      // Clone beside it and rename into place: a clone cut short never looks like a mirror.
      const temp = `${mirror}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await git(['clone', '--mirror', '--quiet', '--', remote, temp], ctx, undefined, work);
        await rename(temp, mirror).catch((e: NodeJS.ErrnoException) => {
          // Another runner process on this work dir got there first: its mirror is as good.
          if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
        });
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    }
    if (!(await hasCommit(mirror, commit, ctx, work))) {
      throw new NotFoundError(`commit ${commit} is not in ${remote} (was it pushed?)`);
    }
    return mirror;
  });
}
