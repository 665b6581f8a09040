/**
 * Whether a job's folders are the runner's again, read from the files (ownership.ts): the
 * runner decides from it whether a short root container must give them back.
 */
import { lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownedBy } from '../../../../src/runner/executors/docker/ownership.js';

const RUNNER = { uid: 54321, gid: 54322 };
const ROOT = { uid: 0, gid: 0 };
const ENTRIES = ['', 'out', 'out/deep', 'out/deep/f', 'out/link'];

describe('ownedBy', () => {
  let root: string;
  let ws: string;
  beforeEach(async () => {
    if (process.getuid?.() !== 0) throw new Error('these tests change owners of files: run them as root (CI does)');
    root = await mkdtemp(join(tmpdir(), 'dstack-owned-'));
    ws = join(root, 'ws');
    await mkdir(join(ws, 'out', 'deep'), { recursive: true });
    await writeFile(join(ws, 'out', 'deep', 'f'), 'x');
    await symlink('deep/f', join(ws, 'out', 'link'));
    // lchown: a link's own owner, never what it points to.
    for (const entry of ENTRIES) await lchown(join(ws, entry), RUNNER.uid, RUNNER.gid);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const give = (entry: string, owner: typeof RUNNER) => lchown(join(ws, entry), owner.uid, owner.gid);

  it("is true when every entry is the owner's, and a folder never made counts as nothing", async () => {
    expect(await ownedBy([ws, join(root, 'never-made')], RUNNER)).toBe(true);
  });

  it.each(ENTRIES)("is false when '%s' is another's (a link by its own owner)", async (entry) => {
    await give(entry, ROOT);
    expect(await ownedBy([ws], RUNNER)).toBe(false);
  });

  it('reads owners only: a link to a file of another is the link’s owner’s', async () => {
    await symlink('/etc/passwd', join(ws, 'out', 'elsewhere'));
    await give('out/elsewhere', RUNNER);
    expect(await ownedBy([ws], RUNNER)).toBe(true);
  });
});
