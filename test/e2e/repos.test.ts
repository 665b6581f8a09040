/**
 * Code delivery by clone (`dstack init` registered the remote) and by bundle (no
 * registration) give a job the same workspace: the user's files as they are, uncommitted
 * changes included, ignored and deleted files left out.
 */
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';
import { git, LIST_WORKFLOW, listing, localClient, makeProject } from './repos-project.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** The `type mode path` lines of a listing (sizes vary with folder sizes on disk). */
const entries = (lines: string[]) =>
  lines.filter((l) => /^[fdl] /.test(l)).map((l) => l.replace(/^(\S+ \S+) \d+ /, '$1 '));

describe('code delivery: clone and bundle', () => {
  let cloned: Sandbox;
  let bundled: Sandbox;
  let bare: string;
  let cloneListing: string[];
  let bundleListing: string[];

  beforeAll(async () => {
    [cloned, bundled] = await Promise.all([Sandbox.create(), Sandbox.create()]);
    [bare] = await Promise.all([makeProject(cloned), makeProject(bundled)]);
  });
  afterAll(async () => {
    await Promise.all([cloned.dispose(), bundled.dispose()]);
  });

  it('without dstack init the job gets the uploaded files: changes in, deleted and ignored files out', async () => {
    const r = await bundled.dstack(['run', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('files from');
    bundleListing = listing(r);
    expect(entries(bundleListing)).toStrictEqual([
      'd 755 .dstack',
      'f 644 .dstack/workflows.yaml',
      'f 644 .gitignore',
      'f 755 chmod.txt',
      'f 644 keep.txt',
      'l 777 link',
      'f 644 mod.txt',
      'f 644 new.txt',
      'f 644 run.sh',
      'd 755 sub',
      'f 644 sub/nested.txt',
      'f 644 sub/untracked.txt',
    ]);
    expect(bundleListing).toContain(`${sha('committed line\nand an uncommitted one\n')}  ./mod.txt`);
  });

  it('dstack init registers origin; then the job gets the same files from a clone plus the changes', async () => {
    const init = await cloned.dstack(['init']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`registered ${bare} (credentials: none)`);
    expect(init.stdout).toContain(
      'for a private repository, run dstack init again with --token TOKEN (https) or --private-key PATH (ssh): ' +
        'without credentials runners cannot clone it, and a run of a pushed commit cannot get its code\n',
    );

    const r = await cloned.dstack(['run', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const commit = git(cloned.root, 'rev-parse', 'HEAD').trim();
    expect(r.stderr).toContain(`code: 6 files from ${bare} at ${commit.slice(0, 12)}, 4 from the uploaded changes`);
    cloneListing = listing(r);
    expect(cloneListing).toStrictEqual(bundleListing);
  });

  it('with a registered, pushed remote only the changed and untracked files are uploaded', async () => {
    const client = await localClient(cloned);
    const unchanged = [sha('kept as committed\n'), sha('nested\n'), sha('#!/bin/sh\necho run\n')];
    const changed = [sha('committed line\nand an uncommitted one\n'), sha('untracked\n'), sha('untracked, nested\n')];
    expect((await client.missingBlobs([...unchanged, ...changed])).sort()).toStrictEqual(unchanged.sort());
  });

  it('a registered remote the runner cannot reach fails the job, saying why and what to do', async () => {
    await writeFile(join(cloned.root, 'more.txt'), 'pushed, never uploaded\n');
    git(cloned.root, 'add', 'more.txt');
    git(cloned.root, 'commit', '-q', '-m', 'more');
    git(cloned.root, 'push', '-q', 'origin', 'main');
    await rename(bare, `${bare}.moved`);
    try {
      const r = await cloned.dstack(['run', 'list']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(
        `cannot get the code: git fetch failed: '${bare}' does not appear to be a git repository; and the run`,
      );
      expect(r.stdout + r.stderr).toContain(
        `(${bare} is registered with dstack init); make it reachable from this runner and run again`,
      );
    } finally {
      await rename(`${bare}.moved`, bare);
    }
  });

  it('a commit that is not pushed is sent whole, and the runner falls back to the uploaded files', async () => {
    await writeFile(join(cloned.root, 'local.txt'), 'committed, not pushed\n');
    git(cloned.root, 'add', 'local.txt');
    git(cloned.root, 'commit', '-q', '-m', 'local only');
    const commit = git(cloned.root, 'rev-parse', 'HEAD').trim();
    const r = await cloned.dstack(['run', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`code: could not use ${bare} (commit ${commit} is not in ${bare} (was it pushed?))`);
    expect(listing(r)).toContain(`${sha('committed, not pushed\n')}  ./local.txt`);
  });

  it('a project in a subfolder of the repo gets that folder of the clone only', async () => {
    await cloned.write({ 'sub/.dstack/workflows.yaml': LIST_WORKFLOW });
    git(cloned.root, 'add', 'sub/.dstack');
    git(cloned.root, 'commit', '-q', '-m', 'sub project');
    git(cloned.root, 'push', '-q', 'origin', 'main');
    const r = await cloned.dstack(['run', 'list'], { cwd: join(cloned.root, 'sub') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`code: 2 files from ${bare} at [0-9a-f]{12}, 1 from the uploaded changes`));
    expect(entries(listing(r))).toStrictEqual([
      'd 755 .dstack',
      'f 644 .dstack/workflows.yaml',
      'f 644 nested.txt',
      'f 644 untracked.txt',
    ]);
  });
});

describe('dstack init in a project that ran before it had a remote', () => {
  it('registers an https origin without the token its URL holds, and says where the token goes', async () => {
    const sb = await Sandbox.create();
    try {
      await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo hi]\n' });
      git(sb.root, 'init', '-q', '-b', 'main');
      git(sb.root, 'remote', 'add', 'origin', 'https://bob:s3cret@example.com/team/proj.git');
      const bare = await sb.dstack(['init']);
      expect(bare.code, bare.stderr).toBe(0);
      expect(bare.stdout).toContain('registered https://example.com/team/proj.git (credentials: none)\n');
      expect(bare.stderr).toBe(
        "warning: origin's URL holds credentials; dstack registers it without them (pass --token instead)\n",
      );
      // Given --token, the warning says the token passed is the one used, not to pass one.
      const given = await sb.dstack(['init', '--token', 'tok']);
      expect(given.code, given.stderr).toBe(0);
      expect(given.stdout).toContain('registered https://example.com/team/proj.git (credentials: HTTPS token)\n');
      expect(given.stderr).toBe(
        "warning: origin's URL holds credentials; dstack registers it without them, with the --token given\n",
      );
    } finally {
      await sb.dispose();
    }
  });

  it("says the earlier runs and tags stay under the folder's project", async () => {
    const sb = await Sandbox.create();
    try {
      await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo hi]\n' });
      git(sb.root, 'init', '-q', '-b', 'main');
      expect((await sb.dstack(['run', 'a', '--tag', 'first'])).code).toBe(0);
      const bare = join(sb.root, '..', 'origin.git');
      git(sb.root, 'init', '-q', '--bare', bare);
      git(sb.root, 'remote', 'add', 'origin', bare);
      const init = await sb.dstack(['init']);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stderr).toContain(
        `warning: runs and tags made here before the repository had a remote stay under project ${sb.root} ` +
          `(see 'dstack status --all'); from now on this project's are under ${bare.replace(/\.git$/, '')}`,
      );
    } finally {
      await sb.dispose();
    }
  });
});
