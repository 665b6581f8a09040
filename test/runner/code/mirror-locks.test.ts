/**
 * A git killed in the runner's mirror leaves its lock files there; the next fetch into the
 * mirror removes them and goes on, rather than fail for good. Real git, a real mirror, and
 * locks left by a git that was really SIGKILLed while it held them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitAuth, type GitAuth } from '../../../src/runner/code/git-auth.js';
import { GitError } from '../../../src/runner/code/git.js';
import { leftLocks } from '../../../src/runner/code/mirror-locks.js';
import { mirrorWithCommit } from '../../../src/runner/code/mirror.js';
import { killGitHoldingLocks } from '../../services/killed-git.js';

const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' };

describe("a killed git's locks in the runner's mirror", () => {
  let dir: string;
  let work: string;
  let bare: string;
  let auth: GitAuth;
  let mirror: string;
  const root = () => join(dir, 'runner');

  /** A new commit, pushed to the remote; its id. */
  const pushCommit = async (text: string): Promise<string> => {
    await writeFile(join(work, 'a.txt'), text);
    const inWork = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-C', work, ...args], { env }).toString();
    inWork('commit', '-q', '-am', text);
    inWork('push', '-q', 'origin', 'main', 'other');
    return inWork('rev-parse', 'HEAD').trim();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-mirror-locks-'));
    work = join(dir, 'work');
    bare = join(dir, 'remote.git');
    execFileSync('git', ['init', '-q', '-b', 'main', work], { env });
    await writeFile(join(work, 'a.txt'), 'a\n');
    execFileSync('git', ['-C', work, 'add', '-A'], { env });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-C', work, 'commit', '-q', '-m', 'a'], { env });
    execFileSync('git', ['-C', work, 'branch', 'other'], { env });
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
    execFileSync('git', ['-C', work, 'remote', 'add', 'origin', bare], { env });
    const first = await pushCommit('first\n');
    auth = await gitAuth(bare, { kind: 'none' }, env);
    mirror = await mirrorWithCommit(root(), 'ada', bare, first, auth);
  });
  afterAll(async () => {
    await auth?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('are removed by the next fetch, which gets the new commit', async () => {
    const before = execFileSync('git', [`--git-dir=${mirror}`, 'rev-parse', 'main'], { env })
      .toString()
      .trim();
    // Killed mid-update: a branch's lock, and packed-refs' (a packed branch's deletion).
    await killGitHoldingLocks(mirror, 'main', before, 'other');
    expect(await leftLocks(mirror)).toEqual([
      'HEAD.lock',
      'packed-refs.lock',
      'packed-refs.new',
      'refs/heads/main.lock',
      'refs/heads/other.lock',
    ]);
    const next = await pushCommit('second\n');
    // What every fetch into the mirror met before, shown on a copy (a failed fetch still brings the objects).
    const copy = join(dir, 'copy.git');
    await cp(mirror, copy, { recursive: true });
    const plain = spawnSync('git', [`--git-dir=${copy}`, 'fetch', '--quiet', 'origin'], { env, encoding: 'utf8' });
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toContain("Unable to create '");

    expect(await mirrorWithCommit(root(), 'ada', bare, next, auth)).toBe(mirror);
    expect(
      execFileSync('git', [`--git-dir=${mirror}`, 'rev-parse', 'main'], { env })
        .toString()
        .trim(),
    ).toBe(next);
    expect(await leftLocks(mirror)).toEqual([]);
  });

  it('one that cannot be removed fails the fetch, saying where it is and what to do', async () => {
    // Nothing stops root from removing a file: a lock that is a folder stands for one it cannot.
    const lock = join(mirror, 'refs', 'heads', 'main.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'x'), '');
    try {
      const next = await pushCommit('third\n');
      const error = await mirrorWithCommit(root(), 'ada', bare, next, auth).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitError);
      expect((error as Error).message).toBe(
        `git fetch failed: cannot lock ref 'refs/heads/main': Unable to create '${lock}': File exists.; ` +
          `a git process that was killed left ${lock} in this runner's copy of ${bare}, and the runner cannot ` +
          `remove it (EISDIR: illegal operation on a directory, unlink '${lock}'): remove it, or the whole ` +
          `${mirror} (the next job clones it again)`,
      );
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  });
});
