import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafeWriter } from '../../src/files/safe-writer.js';
import { blockedWrite, WriteBlockedError } from '../../src/files/write-blocked.js';

const work = await mkdtemp(join(tmpdir(), 'dstack-safe-writer-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('SafeWriter', () => {
  it('gives every file exactly its mode, whatever the umask and the mode of the first file', async () => {
    const previous = process.umask(0o022);
    try {
      const writer = new SafeWriter(join(work, 'modes'));
      const modes = { 'a.txt': 0o644, 'run.sh': 0o775, 'shared.txt': 0o666, 'private.txt': 0o600 };
      for (const [name, mode] of Object.entries(modes)) await writer.writeFile(name, Buffer.from(name), mode);
      for (const [name, mode] of Object.entries(modes)) expect(await modeOf(join(work, 'modes', name))).toBe(mode);
    } finally {
      process.umask(previous);
    }
  });

  it('writes into folders it makes, and refuses a path through a folder that links out, making nothing there', async () => {
    const root = join(work, 'links');
    const outside = join(work, 'outside');
    await mkdir(root, { recursive: true });
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(root, 'link'));
    const writer = new SafeWriter(root);
    await writer.writeFile('deep/new/a.txt', Buffer.from('a'), 0o644);
    expect(await readFile(join(root, 'deep', 'new', 'a.txt'), 'utf8')).toBe('a');
    for (const rel of ['link/b.txt', 'link/sub/c.txt']) {
      await expect(writer.writeFile(rel, Buffer.from('x'), 0o644)).rejects.toThrow(
        `path '${rel}' leads out of ${root} through a symlink`,
      );
    }
    // Not even a folder is made there before the refusal.
    expect(await readdir(outside, { recursive: true })).toEqual([]);
  });

  it('copies a file in with exactly its mode, replacing what is at the path, never through a link there', async () => {
    const previous = process.umask(0o077);
    try {
      const root = join(work, 'copies');
      await mkdir(root, { recursive: true });
      const source = join(work, 'copy-source');
      await writeFile(source, 'content');
      await chmod(source, 0o644);
      const outside = join(work, 'copy-outside');
      await writeFile(outside, 'keep');
      await symlink(outside, join(root, 'linked.bin'));
      await writeFile(join(root, 'old.bin'), 'old');
      const writer = new SafeWriter(root);
      for (const [rel, mode] of [
        ['new/a.bin', 0o644],
        ['linked.bin', 0o600],
        ['old.bin', 0o755],
      ] as const) {
        await writer.copyFile(source, 0o100644, rel, mode);
        expect(await readFile(join(root, rel), 'utf8')).toBe('content');
        expect(await modeOf(join(root, rel))).toBe(mode);
      }
      expect(await readFile(outside, 'utf8')).toBe('keep');
    } finally {
      process.umask(previous);
    }
  });

  it('leaves a file at the path alone when the source of a copy is missing', async () => {
    const root = join(work, 'missing-source');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'model.bin'), 'mine');
    const writer = new SafeWriter(root);
    await expect(writer.copyFile(join(work, 'no-such-blob'), 0o100644, 'model.bin', 0o644)).rejects.toThrow('ENOENT');
    expect(await readFile(join(root, 'model.bin'), 'utf8')).toBe('mine');
  });

  it('names the file or folder in the way of a file it writes', async () => {
    const root = join(work, 'in-the-way');
    await mkdir(join(root, 'plain'), { recursive: true });
    await writeFile(join(root, 'out dir'), 'x');
    const writer = new SafeWriter(root);
    for (const rel of ['out dir/x.txt', 'out dir/deep/x.txt']) {
      const blocked = writer.writeFile(rel, Buffer.from('a'), 0o644);
      await expect(blocked).rejects.toThrow(
        `cannot write file '${rel}' into ${root}: '${join(root, 'out dir')}' is a file`,
      );
      await expect(blocked).rejects.toBeInstanceOf(WriteBlockedError);
    }
    await expect(writer.copyFile(join(root, 'out dir'), 0o100644, 'plain', 0o644)).rejects.toThrow(
      `cannot write file 'plain' into ${root}: '${join(root, 'plain')}' is a folder`,
    );
    expect(await readFile(join(root, 'out dir'), 'utf8')).toBe('x');
  });

  it('names the folder that refused a write (root bypasses permissions: the errno is handed in)', async () => {
    const root = join(work, 'refused');
    await mkdir(join(root, 'ro'), { recursive: true });
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const e = await blockedWrite(root, 'ro/new/x.txt', join(root, 'ro', 'new'), denied);
    expect((e as Error).message).toBe(
      `cannot write file 'ro/new/x.txt' into ${root}: no permission to write in '${join(root, 'ro')}'`,
    );
    expect((e as WriteBlockedError).code).toBe('forbidden');
    const other = Object.assign(new Error('EIO'), { code: 'EIO' });
    expect(await blockedWrite(root, 'x', root, other)).toBe(other);
  });
});
