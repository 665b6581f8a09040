/** A runner's work dir or a server's data folder is its user's alone: made 0700, and closed when found open to others. */
import { chmod, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePrivateFolder } from '../../src/files/private-folder.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('makePrivateFolder', () => {
  it('makes the folder, and its missing parents, readable by its user only', async () => {
    const base = await mkdtemp(join(tmpdir(), 'dstack-private-folder-'));
    const root = join(base, 'home', 'runner');
    await makePrivateFolder(root);
    expect(await modeOf(root)).toBe(0o700);
  });

  it('closes one an earlier version (or the umask) left open to others', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dstack-private-folder-'));
    await mkdir(join(root, 'jobs'));
    await chmod(root, 0o755);
    await makePrivateFolder(root);
    expect(await modeOf(root)).toBe(0o700);
  });
});
