/** makeFolder: `mkdir -p` that fails at once where Node 20's recursive mkdir spins forever (/proc/nope). */
import { spawnSync } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeChosenFolder, makeFolder, makeFolderSync } from '../../src/files/make-folder.js';

const base = () => mkdtemp(join(tmpdir(), 'dstack-make-folder-'));

/** Runs `call` in a child process, killed after 10 s: a hang fails the test instead of hanging it. */
function inChild(call: string): { status: number | null; out: string } {
  const script =
    `import * as m from ${JSON.stringify(new URL('../../src/files/make-folder.ts', import.meta.url).pathname)};\n` +
    `try { console.log(JSON.stringify(await (${call}))); } catch (e) { console.log('threw ' + e.code + ' ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: r.status, out: r.stdout.trim() + r.stderr.trim() };
}

describe('makeFolder', () => {
  it('makes the folder and its missing parents, answering the first it made', async () => {
    const root = await base();
    expect(await makeFolder(join(root, 'a', 'b', 'c'), 0o700)).toBe(join(root, 'a'));
    expect((await stat(join(root, 'a', 'b', 'c'))).mode & 0o777).toBe(0o700);
    expect(await makeFolder(join(root, 'a', 'b', 'c'))).toBeUndefined();
    expect(await makeFolder(join(root, 'a', 'b', 'd'))).toBe(join(root, 'a', 'b', 'd'));
    expect(makeFolderSync(join(root, 's', 't'))).toBe(join(root, 's'));
    expect(makeFolderSync(join(root, 's', 't'))).toBeUndefined();
  });

  it('keeps mkdir’s error for a file in the way', async () => {
    const root = await base();
    await writeFile(join(root, 'f'), '');
    await expect(makeFolder(join(root, 'f'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeFolder(join(root, 'f', 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => makeFolderSync(join(root, 'f'))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it("fails at once where the file system makes no folder under one that exists (/proc), as Node's own spins", () => {
    for (const call of ["m.makeFolder('/proc/nope/x')", "m.makeFolderSync('/proc/nope')"]) {
      const r = inChild(call);
      expect(r, call).toEqual({
        status: 0,
        out: "threw ENOENT ENOENT: no such file or directory, mkdir '/proc/nope'",
      });
    }
  });

  it('names the setting that chose a folder it cannot make, and why', async () => {
    const root = await base();
    await writeFile(join(root, 'f'), '');
    const home = { setting: 'DSTACK_HOME', value: '/proc/nope' };
    await expect(makeChosenFolder('/proc/nope/server', home)).rejects.toThrow(
      "invalid DSTACK_HOME '/proc/nope': cannot make the folder /proc/nope: no such file or directory; " +
        'set DSTACK_HOME to a folder you can write',
    );
    await expect(makeChosenFolder('/sys/nope', { setting: '-o', value: '/sys/nope' })).rejects.toThrow(
      "invalid -o '/sys/nope': no permission to make /sys/nope; set -o to a folder you can write",
    );
    const flag = { setting: '--data-dir', value: 'f/d', hint: 'give another' };
    await expect(makeChosenFolder(join(root, 'f', 'd'), flag)).rejects.toThrow(
      `invalid --data-dir 'f/d': ${join(root, 'f', 'd')} (or a folder above it) is a file; give another`,
    );
  });
});
