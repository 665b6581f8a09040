/**
 * Which files make a run's code: git's view inside a repo (tracked plus untracked-but-not-
 * ignored), every file outside one, where git is not even started.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshotProject } from '../../src/client/snapshot.js';

const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' };
let dir: string;
const paths = (s: Awaited<ReturnType<typeof snapshotProject>>) => s.manifest.files.map((f) => f.path);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dstack-snapshot-'));
  await mkdir(join(dir, 'proj', '.dstack'), { recursive: true });
  await writeFile(join(dir, 'proj', '.dstack', 'workflows.yaml'), 'workflows: []\n');
  await writeFile(join(dir, 'proj', 'train.py'), 'print(1)\n');
  await writeFile(join(dir, 'proj', 'ignored.log'), 'x\n');
  await writeFile(join(dir, '.gitignore'), '*.log\n');
});

afterEach(() => {
  delete process.env['GIT_DIR'];
});

describe('snapshotProject', () => {
  it('takes every file of a folder outside any repo', async () => {
    const snapshot = await snapshotProject(join(dir, 'proj'));
    expect(paths(snapshot)).toEqual(['.dstack/workflows.yaml', 'ignored.log', 'train.py']);
    expect(snapshot.repo).toEqual({ root: join(dir, 'proj') });
  });

  it('leaves out a link that leads out of the project through another link, and says which', async () => {
    const proj = join(dir, 'proj');
    await mkdir(join(proj, 'a/b'), { recursive: true });
    await symlink('../..', join(proj, 'a/b/y')); // the project itself
    await symlink('y/../secret', join(proj, 'a/b/x')); // as text a/b/secret; through y, beside the project
    const snapshot = await snapshotProject(proj);
    expect(snapshot.manifest.files.filter((f) => f.link).map((f) => [f.path, f.link])).toEqual([['a/b/y', '../..']]);
    expect(snapshot.leftOut).toEqual([{ path: 'a/b/x', link: 'y/../secret' }]);
  });

  it("takes git's files in a project below a repo's root, with the commit and the project's folder", async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, env }).toString();
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const snapshot = await snapshotProject(join(dir, 'proj'));
    expect(paths(snapshot)).toEqual(['.dstack/workflows.yaml', 'train.py']);
    expect(snapshot.repo).toMatchObject({ subdir: 'proj', commit: git('rev-parse', 'HEAD').trim(), dirty: false });
  });

  it('takes every file of a project in a folder the repo ignores, and names the repo', async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, env }).toString();
    await writeFile(join(dir, '.gitignore'), 'proj/\n');
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const snapshot = await snapshotProject(join(dir, 'proj'));
    expect(paths(snapshot)).toEqual(['.dstack/workflows.yaml', 'ignored.log', 'train.py']);
    expect(snapshot.repo).toEqual({ root: join(dir, 'proj') });
    expect(snapshot.ignoredIn).toBe(git('rev-parse', '--show-toplevel').trim());
    // A dotfiles repo's '*' ignores the folder too.
    await writeFile(join(dir, '.gitignore'), '*\n!.gitignore\n');
    expect((await snapshotProject(join(dir, 'proj'))).ignoredIn).toBe(git('rev-parse', '--show-toplevel').trim());
    // Files of the folder ignored, not the folder: the project is the repo's, and its code what git lists.
    await writeFile(join(dir, '.gitignore'), 'proj/*.py\n');
    const listed = await snapshotProject(join(dir, 'proj'));
    expect([paths(listed), listed.ignoredIn]).toEqual([['.dstack/workflows.yaml', 'ignored.log'], undefined]);
  });

  it("reads the branch, the commit and dirtiness from git's status: none before a commit, no branch when detached", async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, env }).toString();
    git('init', '-q', '-b', 'train');
    const proj = join(dir, 'proj');
    expect((await snapshotProject(proj)).repo).toEqual({ root: proj, subdir: 'proj', branch: 'train', dirty: true });
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const commit = git('rev-parse', 'HEAD').trim();
    expect((await snapshotProject(proj)).repo).toEqual({
      root: proj,
      subdir: 'proj',
      branch: 'train',
      commit,
      dirty: false,
    });
    await writeFile(join(proj, 'train.py'), 'print(2)\n');
    expect((await snapshotProject(proj)).repo).toMatchObject({ branch: 'train', commit, dirty: true });
    git('checkout', '-q', '--detach');
    const detached = (await snapshotProject(proj)).repo;
    expect(detached).toMatchObject({ commit, dirty: true });
    expect(detached).not.toHaveProperty('branch');
  });

  it("names what git does not track in the project, from git's status: a folder once, not what lies outside", async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, env }).toString();
    git('init', '-q');
    const proj = join(dir, 'proj');
    // Before any add, the project's folder is untracked whole.
    expect((await snapshotProject(proj)).untracked).toEqual(['']);
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    expect((await snapshotProject(proj)).untracked).toEqual([]);
    await mkdir(join(proj, 'rawdata', 'raw'), { recursive: true });
    await writeFile(join(proj, 'rawdata', 'raw', 'big.csv'), 'x');
    await writeFile(join(proj, 'a ? b.txt'), 'x'); // a name that a status without -z would quote
    await writeFile(join(dir, 'beside.txt'), 'x'); // in the repo, outside the project
    git('mv', 'proj/train.py', 'proj/? x'); // a rename's record carries the path it had
    const snapshot = await snapshotProject(proj);
    expect(snapshot.untracked.sort()).toEqual(['a ? b.txt', 'rawdata/']);
    expect(paths(snapshot)).toContain('rawdata/raw/big.csv');
  });

  it('asks git when GIT_DIR points at a repo elsewhere', async () => {
    const gitDir = join(dir, 'elsewhere.git');
    execFileSync('git', ['--git-dir', gitDir, '--work-tree', dir, 'init', '-q'], { env });
    process.env['GIT_DIR'] = gitDir;
    const snapshot = await snapshotProject(dir);
    // git's view: the ignored file is left out, which a plain walk would not do.
    expect(paths(snapshot)).not.toContain('proj/ignored.log');
    expect(paths(snapshot)).toContain('proj/train.py');
  });
});

describe('snapshotProject with repos inside the project', () => {
  const gitIn = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'protocol.file.allow=always', ...args], {
      cwd,
      env,
    }).toString();
  const digestOf = (s: Awaited<ReturnType<typeof snapshotProject>>, path: string) =>
    s.manifest.files.find((f) => f.path === path)?.digest;

  /** A repo of its own at `path` with one committed file and its own ignored one. */
  async function makeRepo(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'lib.py'), 'VERSION = 1\n');
    await writeFile(join(path, '.gitignore'), 'build/\n');
    await mkdir(join(path, 'build'));
    await writeFile(join(path, 'build', 'out.o'), 'x');
    gitIn(path, 'init', '-q');
    gitIn(path, 'add', '.');
    gitIn(path, 'commit', '-q', '-m', 'lib');
  }

  it("takes a submodule's files by its own git, and sees an edit in it", async () => {
    await makeRepo(join(dir, 'sublib'));
    gitIn(dir, 'init', '-q');
    gitIn(join(dir, 'proj'), 'submodule', 'add', '-q', join(dir, 'sublib'), 'third_party/sublib');
    gitIn(dir, 'commit', '-q', '-m', 'with a submodule');
    const proj = join(dir, 'proj');
    const before = await snapshotProject(proj);
    expect(paths(before)).toEqual([
      '.dstack/workflows.yaml',
      'third_party/sublib/.gitignore',
      'third_party/sublib/lib.py',
      'train.py',
    ]);
    await writeFile(join(proj, 'third_party', 'sublib', 'lib.py'), 'VERSION = 2\n');
    const after = await snapshotProject(proj);
    expect(digestOf(after, 'third_party/sublib/lib.py')).not.toBe(digestOf(before, 'third_party/sublib/lib.py'));
  });

  it('takes the files of a repo nested in the project but not added to it, and of a repo nested in that one', async () => {
    gitIn(dir, 'init', '-q');
    const proj = join(dir, 'proj');
    await makeRepo(join(proj, 'vendor', 'lib'));
    await makeRepo(join(proj, 'vendor', 'lib', 'deep'));
    expect(paths(await snapshotProject(proj))).toEqual([
      '.dstack/workflows.yaml',
      'train.py',
      'vendor/lib/.gitignore',
      'vendor/lib/deep/.gitignore',
      'vendor/lib/deep/lib.py',
      'vendor/lib/lib.py',
    ]);
  });

  it('takes nothing of a submodule that is not checked out, and asks the nested repo itself whatever GIT_DIR says', async () => {
    await makeRepo(join(dir, 'sublib'));
    gitIn(dir, 'init', '-q');
    gitIn(join(dir, 'proj'), 'submodule', 'add', '-q', join(dir, 'sublib'), 'sub');
    gitIn(dir, 'commit', '-q', '-m', 'with a submodule');
    await makeRepo(join(dir, 'proj', 'nested'));
    process.env['GIT_DIR'] = join(dir, '.git');
    process.env['GIT_WORK_TREE'] = dir;
    try {
      execFileSync('git', ['submodule', 'deinit', '-q', '-f', 'proj/sub'], { cwd: dir, env: process.env });
      expect(paths(await snapshotProject(join(dir, 'proj')))).toEqual([
        '.dstack/workflows.yaml',
        'nested/.gitignore',
        'nested/lib.py',
        'train.py',
      ]);
    } finally {
      delete process.env['GIT_WORK_TREE'];
    }
  });
});

describe("snapshotProject with dstack's home inside the project", () => {
  it('leaves out the home folder and everything under it, and nothing else', async () => {
    const proj = join(dir, 'proj');
    await mkdir(join(proj, '.dstack-home', 'server', 'logs'), { recursive: true });
    await writeFile(join(proj, '.dstack-home', 'server', 'dstack.db'), 'db');
    await writeFile(join(proj, '.dstack-home', 'server', 'logs', 'j1.log'), 'log');
    await writeFile(join(proj, '.dstack-home-notes.txt'), 'kept: a sibling whose name only starts alike');
    const snapshot = await snapshotProject(proj, join(proj, '.dstack-home'));
    expect(paths(snapshot)).toEqual(['.dstack/workflows.yaml', '.dstack-home-notes.txt', 'ignored.log', 'train.py']);
  });

  it('takes every file when the home is elsewhere', async () => {
    const snapshot = await snapshotProject(join(dir, 'proj'), join(dir, 'home'));
    expect(paths(snapshot)).toEqual(['.dstack/workflows.yaml', 'ignored.log', 'train.py']);
  });

  it('refuses names that are not UTF-8, outside a repo and in one, and keeps one whose U+FFFD is its own', async () => {
    const proj = join(dir, 'proj');
    await writeFile(join(proj, 'own\ufffd.txt'), 'x');
    expect(paths(await snapshotProject(proj))).toContain('own\ufffd.txt');
    await writeFile(Buffer.from(join(proj, 'data\xff.txt'), 'latin1'), 'x');
    await expect(snapshotProject(proj)).rejects.toThrow(
      "the project's code: a name is not UTF-8: data\\xff.txt (dstack stores UTF-8 names only); " +
        'rename it, or move it out of the project',
    );
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, env }).toString();
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    await expect(snapshotProject(proj)).rejects.toThrow(
      "the project's code: a name is not UTF-8: data\\xff.txt (dstack stores UTF-8 names only); " +
        'rename it, or have git ignore it (.gitignore)',
    );
    // Tracked but deleted in the working tree, it is skipped as any deleted file is.
    await rm(Buffer.from(join(proj, 'data\xff.txt'), 'latin1'));
    expect(paths(await snapshotProject(proj))).toEqual(['.dstack/workflows.yaml', 'own\ufffd.txt', 'train.py']);
  });
});
