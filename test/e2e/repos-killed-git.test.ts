/**
 * A git killed in the local runner's mirror of a registered remote (as a stop's SIGKILL cuts
 * one short) leaves its locks there: the next job that needs a new commit still gets its code
 * from the mirror, and a lock the runner cannot remove fails the job saying what to do.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnerWorkDir } from '../../src/settings.js';
import { killGitHoldingLocks } from '../services/killed-git.js';
import { Sandbox } from './harness.js';
import { git, makeProject } from './repos-project.js';

describe("a killed git's locks in the runner's mirror", () => {
  let sb: Sandbox;
  let bare: string;
  let mirror: string;

  /** Commit a new file and push it: a commit the mirror lacks. */
  const pushCommit = async (name: string): Promise<string> => {
    await writeFile(join(sb.root, name), `${name}\n`);
    git(sb.root, 'add', name);
    git(sb.root, 'commit', '-q', '-m', name);
    git(sb.root, 'push', '-q', 'origin', 'main');
    return git(sb.root, 'rev-parse', 'HEAD').trim();
  };

  beforeAll(async () => {
    sb = await Sandbox.create();
    bare = await makeProject(sb);
    expect((await sb.dstack(['init'])).code).toBe(0);
    const first = await sb.dstack(['run', 'list']);
    expect(first.code, first.stderr).toBe(0);
    const repos = join(runnerWorkDir(sb.home), 'repos');
    const mirrors = (await readdir(repos)).filter((name) => name.endsWith('.git'));
    expect(mirrors).toHaveLength(1);
    mirror = join(repos, mirrors[0]!);
  });
  afterAll(() => sb.dispose());

  it('a job that needs a new commit gets it from the mirror all the same', async () => {
    const held = git(sb.root, 'rev-parse', 'HEAD').trim();
    await killGitHoldingLocks(mirror, 'main', held);
    const commit = await pushCommit('after-the-kill.txt');
    const r = await sb.dstack(['run', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`code: 7 files from ${bare} at ${commit.slice(0, 12)}, 4 from the uploaded changes`);
    expect(r.stdout).toContain('./after-the-kill.txt');
  });

  it('a lock it cannot remove fails the job, saying where it is and what to do', async () => {
    // Nothing stops root from removing a file: a lock that is a folder stands for one it cannot.
    const lock = join(mirror, 'refs', 'heads', 'main.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'x'), '');
    try {
      await pushCommit('behind-the-lock.txt');
      const r = await sb.dstack(['run', 'list']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(
        `cannot get the code: git fetch failed: cannot lock ref 'refs/heads/main': Unable to create '${lock}': ` +
          `File exists.; a git process that was killed left ${lock} in this runner's copy of ${bare}, and the ` +
          `runner cannot remove it (EISDIR: illegal operation on a directory, unlink '${lock}'): remove it, or ` +
          `the whole ${mirror} (the next job clones it again); and the run uploaded only the files that differ`,
      );
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  });
});
