import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Trash } from '../../src/runner/trash.js';
import { recordPid, removeWorkspace, spoolPath, workspacePath } from '../../src/runner/workspace.js';

describe('removeWorkspace', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dstack-workspace-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("removes a trivial job's folder: pid, spool and an empty workspace", async () => {
    await mkdir(workspacePath(root, 'j1'), { recursive: true });
    recordPid(root, 'j1', 123);
    await writeFile(spoolPath(root, 'j1'), '');
    await removeWorkspace(root, 'j1');
    expect(existsSync(join(root, 'jobs', 'j1'))).toBe(false);
  });

  it('removes what else the job left: files in the workspace, other files beside it, no spool', async () => {
    await mkdir(join(workspacePath(root, 'j2'), 'out', 'deep'), { recursive: true });
    await writeFile(join(workspacePath(root, 'j2'), 'out', 'deep', 'f'), 'x');
    await mkdir(join(root, 'jobs', 'j2', 'container'), { recursive: true });
    await writeFile(join(root, 'jobs', 'j2', 'j2.sh'), 'true');
    await removeWorkspace(root, 'j2');
    expect(existsSync(join(root, 'jobs', 'j2'))).toBe(false);
  });

  it('does nothing for a job that has no folder', async () => {
    await expect(removeWorkspace(root, 'none')).resolves.toBeUndefined();
  });
});

describe('removeWorkspace with a trash', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dstack-trash-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));
  /** A job's (empty) folder, made and handed to `trash`. */
  const discardOne = async (trash: Trash, id: string) => {
    await mkdir(workspacePath(root, id), { recursive: true });
    await removeWorkspace(root, id, trash);
  };

  it("takes the job's folder away at once and empties the trash in the background", async () => {
    const trash = new Trash(join(root, 'trash'));
    for (const id of ['a', 'b']) {
      await mkdir(join(workspacePath(root, id), 'data'), { recursive: true });
      for (let i = 0; i < 50; i++) await writeFile(join(workspacePath(root, id), 'data', `f${i}`), 'x');
      await removeWorkspace(root, id, trash);
      expect(existsSync(join(root, 'jobs', id))).toBe(false);
    }
    expect(await readdir(join(root, 'trash'))).toHaveLength(2); // not removed yet: one sweep takes both
    await vi.waitFor(async () => expect(await readdir(join(root, 'trash'))).toEqual([]), { timeout: 5000 });
  });

  it('waits for the runner to be idle before it removes, and no longer than its longest wait', async () => {
    let busy = true;
    let checks = 0;
    const isBusy = () => (checks++, busy);
    const waiting = new Trash(join(root, 'trash'), { busy: isBusy, delayMs: 20, maxWaitMs: 60_000 });
    await discardOne(waiting, 'a');
    await vi.waitFor(() => expect(checks).toBeGreaterThanOrEqual(5), { timeout: 5000 }); // all while busy
    expect(await readdir(join(root, 'trash'))).toHaveLength(1);
    busy = false;
    await vi.waitFor(async () => expect(await readdir(join(root, 'trash'))).toEqual([]), { timeout: 5000 });

    // A runner that is never idle still frees its disk once the oldest folder has waited long enough.
    busy = true;
    const bounded = new Trash(join(root, 'trash'), { busy: isBusy, delayMs: 20, maxWaitMs: 150 });
    await discardOne(bounded, 'b');
    await vi.waitFor(async () => expect(await readdir(join(root, 'trash'))).toEqual([]), { timeout: 5000 });
  });

  it('removes at the lowest CPU priority', async () => {
    // An `rm` first on PATH that notes its niceness (after a moment: it is set once started), then removes.
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'rm'), `#!/bin/sh\nsleep 0.2\nnice > '${join(root, 'nice')}'\nexec /bin/rm "$@"\n`, {
      mode: 0o755,
    });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const trash = new Trash(join(root, 'trash'));
      await discardOne(trash, 'a');
      await trash.empty();
    } finally {
      process.env.PATH = path;
    }
    expect((await readFile(join(root, 'nice'), 'utf8')).trim()).toBe('19');
    expect(await readdir(join(root, 'trash'))).toEqual([]);
  });

  it('says once which folder it cannot remove, and why, removes the others, and tries again when the runner starts', async () => {
    // An `rm` first on PATH that cannot remove a folder named stuck-…, as a runner that is not root
    // cannot remove a job's files root owns, and notes what it was given.
    const bin = join(root, 'bin');
    await mkdir(bin);
    const calls = join(root, 'rm-calls');
    const rmScript = [
      '#!/bin/sh',
      `echo "$*" >> '${calls}'`,
      'status=0',
      'for a in "$@"; do case "$a" in',
      '  -rf|--) ;;',
      `  */stuck-*) echo "rm: cannot remove '$a/f': Operation not permitted" >&2; status=1 ;;`,
      '  *) /bin/rm -rf -- "$a" ;;',
      'esac; done',
      'exit $status',
    ].join('\n');
    await writeFile(join(bin, 'rm'), rmScript + '\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    const warnings: string[] = [];
    const warn = (message: string) => void warnings.push(message);
    try {
      const trash = new Trash(join(root, 'trash'), { warn });
      await discardOne(trash, 'stuck');
      await discardOne(trash, 'ok1');
      await trash.empty();
      const [left, ...more] = await readdir(join(root, 'trash'));
      expect([left, more]).toEqual([expect.stringMatching(/^stuck-[0-9a-f]{16}$/), []]);
      const folder = join(root, 'trash', left!);
      expect(warnings).toEqual([
        `cannot remove ${folder}: rm: cannot remove '${folder}/f': Operation not permitted (a runner tries again when it starts)`,
      ]);
      await discardOne(trash, 'ok2');
      await trash.empty();
      expect(await readdir(join(root, 'trash'))).toEqual([left]);
      expect(warnings).toHaveLength(1);
      const lastCall = (await readFile(calls, 'utf8')).trim().split('\n').at(-1);
      expect(lastCall).toMatch(/\/ok2-[0-9a-f]{16}$/); // the stuck folder is not tried again by this runner
      await new Trash(join(root, 'trash'), { warn }).empty(); // a runner starting again
      expect(warnings).toHaveLength(2);
    } finally {
      process.env.PATH = path;
    }
  });

  it('empties what an earlier runner left, takes a missing folder as removed, and removes in place without a trash', async () => {
    await mkdir(join(root, 'trash', 'left', 'deep'), { recursive: true });
    await writeFile(join(root, 'trash', 'left', 'deep', 'f'), 'x');
    const trash = new Trash(join(root, 'trash'));
    await trash.empty();
    expect(await readdir(join(root, 'trash'))).toEqual([]);
    await expect(removeWorkspace(root, 'none', trash)).resolves.toBeUndefined();
    // A trash folder removed under it: the job's folder is removed in place instead.
    await mkdir(workspacePath(root, 'b'), { recursive: true });
    await removeWorkspace(root, 'b', trash);
    await rm(join(root, 'trash'), { recursive: true });
    await mkdir(workspacePath(root, 'c'), { recursive: true });
    await removeWorkspace(root, 'c', trash);
    expect(existsSync(join(root, 'jobs', 'c'))).toBe(false);
    expect(existsSync(join(root, 'trash'))).toBe(false);
    await removeWorkspace(root, 'none', trash); // and the trash is made again for the next
    await trash.empty();
    expect(await readdir(join(root, 'trash'))).toEqual([]);
  });
});
