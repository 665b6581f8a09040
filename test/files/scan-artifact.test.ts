/**
 * An artifact path is read only inside its workspace: a link on it that leads out is left out,
 * named. Its empty folders are entries of their own; others are implied by what they hold.
 */
import { chmod, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanArtifact, walk } from '../../src/files/manifest.js';
import { NonUtf8NamesError } from '../../src/files/non-utf8-names.js';

describe('scanArtifact and links on the artifact path', () => {
  let base: string;
  let ws: string;
  let outside: string;
  beforeAll(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'dstack-scan-')));
    ws = join(base, 'ws');
    outside = join(base, 'host-secret');
    await mkdir(join(outside, 'sub'), { recursive: true });
    await writeFile(join(outside, 'sub', 'key.txt'), 'HOST-SECRET');
    await mkdir(join(ws, 'checkpoints', 'epoch3'), { recursive: true });
    await writeFile(join(ws, 'checkpoints', 'epoch3', 'model.bin'), 'weights');
    await symlink(outside, join(ws, 'steal')); // absolute, to a folder outside
    await symlink('../host-secret', join(ws, 'up')); // relative, out
    await symlink(join(outside, 'sub', 'key.txt'), join(ws, 'key')); // a file outside
    await symlink('checkpoints/epoch3', join(ws, 'latest')); // inside: saved as the folder it names
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const scan = async (artifact: string) => {
    const leftOut: [string, string][] = [];
    const found = await scanArtifact(ws, artifact, (path, link) => leftOut.push([path, link]));
    return { paths: found?.map((f) => f.entry.path), leftOut };
  };

  it('leaves out a link, or a folder reached through one, that leads out of the workspace', async () => {
    expect(await scan('steal')).toEqual({ paths: [], leftOut: [['steal', outside]] });
    expect(await scan('steal/sub')).toEqual({ paths: [], leftOut: [['steal/sub', join(outside, 'sub')]] });
    expect(await scan('up')).toEqual({ paths: [], leftOut: [['up', outside]] });
    expect(await scan('key')).toEqual({ paths: [], leftOut: [['key', join(outside, 'sub', 'key.txt')]] });
  });

  it('follows a link that stays inside, and says nothing of a path that does not exist', async () => {
    expect(await scan('latest')).toEqual({ paths: ['latest/model.bin'], leftOut: [] });
    expect(await scan('missing')).toEqual({ paths: undefined, leftOut: [] });
  });
});

describe('scanArtifact and empty folders', () => {
  let ws: string;
  beforeAll(async () => {
    ws = await realpath(await mkdtemp(join(tmpdir(), 'dstack-scan-folders-')));
    const folders: [string, number][] = [
      ['run/a/b/c', 0o755], // nested: only the innermost is empty
      ['run/ckpt/epoch1', 0o755],
      ['run/gone', 0o755], // holds only a link that leads out
      ['run/logs', 0o750],
      ['run/only/sub', 0o700], // a folder with only an empty subfolder
      ['empty', 0o700],
      ['outer/inner', 0o755],
    ];
    for (const [path, mode] of folders) {
      await mkdir(join(ws, path), { recursive: true });
      await chmod(join(ws, path), mode);
    }
    await writeFile(join(ws, 'run/ckpt/epoch1/model.bin'), 'weights');
    await chmod(join(ws, 'run/ckpt/epoch1/model.bin'), 0o644);
    await writeFile(join(ws, 'run/z.txt'), 'z');
    await chmod(join(ws, 'run/z.txt'), 0o600);
    await symlink('/etc/hostname', join(ws, 'run/gone/host'));
    await symlink('empty', join(ws, 'latest-empty')); // inside: the folder it names
  });
  afterAll(() => rm(ws, { recursive: true, force: true }));

  const entries = async (artifact: string) => (await scanArtifact(ws, artifact))?.map((f) => f.entry);
  const folder = (path: string, mode: number) => ({ path, size: 0, mode, folder: true });

  it('keeps each empty folder with its mode, in path order, and no folder that holds an entry', async () => {
    expect(await entries('run')).toStrictEqual([
      folder('run/a/b/c', 0o755),
      { path: 'run/ckpt/epoch1/model.bin', size: 7, mode: 0o644 },
      folder('run/gone', 0o755),
      folder('run/logs', 0o750),
      folder('run/only/sub', 0o700),
      { path: 'run/z.txt', size: 1, mode: 0o600 },
    ]);
  });

  it('keeps an artifact folder that is entirely empty, or holds only an empty folder', async () => {
    expect(await entries('empty')).toStrictEqual([folder('empty', 0o700)]);
    expect(await entries('outer')).toStrictEqual([folder('outer/inner', 0o755)]);
    expect(await entries('latest-empty')).toStrictEqual([folder('latest-empty', 0o700)]);
  });

  it('a code snapshot’s walk still lists files only', async () => {
    expect(await walk(ws, 'run')).toEqual(['run/ckpt/epoch1/model.bin', 'run/gone/host', 'run/z.txt']);
  });
});

describe('scanArtifact and chains of links', () => {
  let ws: string;
  beforeAll(async () => {
    ws = await realpath(await mkdtemp(join(tmpdir(), 'dstack-scan-chains-')));
    await mkdir(join(ws, 'out/a/b/c/d'), { recursive: true });
    await mkdir(join(ws, 'out/only'));
    await chmod(join(ws, 'out/only'), 0o750);
    await symlink('../../../..', join(ws, 'out/a/b/c/d/y')); // out itself
    await symlink('y/../../../../..', join(ws, 'out/a/b/c/d/x')); // as text out; through y, /
    await symlink('../a/b/c/d/y/..', join(ws, 'out/only/z')); // as text out/a/b/c/d; through y, the workspace
  });
  afterAll(() => rm(ws, { recursive: true, force: true }));

  it('leaves out a link that leads out through another, naming it; a folder it alone was in stays, empty', async () => {
    const leftOut: [string, string][] = [];
    const found = await scanArtifact(ws, 'out', (path, link) => leftOut.push([path, link]));
    expect(found?.map((f) => f.entry)).toStrictEqual([
      { path: 'out/a/b/c/d/y', size: 0, mode: 0o777, link: '../../../..' },
      { path: 'out/only', size: 0, mode: 0o750, folder: true },
    ]);
    expect(leftOut).toEqual([
      ['out/a/b/c/d/x', 'y/../../../../..'],
      ['out/only/z', '../a/b/c/d/y/..'],
    ]);
  });
});

describe('scanArtifact and names that are not UTF-8', () => {
  let ws: string;
  const named = (path: string) => Buffer.from(join(ws, path), 'latin1');
  beforeAll(async () => {
    ws = await realpath(await mkdtemp(join(tmpdir(), 'dstack-scan-bytes-')));
    await mkdir(join(ws, 'o', 'sub'), { recursive: true });
    await writeFile(join(ws, 'o', 'ok\ufffd.txt'), 'its own U+FFFD'); // valid UTF-8 (EF BF BD)
    await writeFile(join(ws, 'o', 'sub', 'fine.txt'), 'x');
  });
  afterAll(() => rm(ws, { recursive: true, force: true }));

  it('keeps a name whose U+FFFD is its own', async () => {
    const found = await scanArtifact(ws, 'o');
    expect(found?.map((f) => f.entry.path)).toEqual(['o/ok\ufffd.txt', 'o/sub/fine.txt']);
  });

  it('refuses the names whose bytes are not UTF-8, all of them, escaped; a link whose target is not', async () => {
    await writeFile(named('o/bad\xff.txt'), 'x'); // decoded, it would read as 'o/bad\ufffd.txt'
    await mkdir(named('o/sub/dir\xfe'));
    await writeFile(named('o/sub/dir\xfe/inside'), 'x');
    const error = await scanArtifact(ws, 'o').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonUtf8NamesError);
    expect((error as NonUtf8NamesError).names).toEqual(['o/bad\\xff.txt', 'o/sub/dir\\xfe']);
    await rm(named('o/bad\xff.txt'));
    await rm(named('o/sub/dir\xfe'), { recursive: true });
    await symlink(Buffer.from('ok\xfd', 'latin1'), named('o/link'));
    await expect(scanArtifact(ws, 'o')).rejects.toThrow(
      'a name is not UTF-8: o/link -> ok\\xfd (dstack stores UTF-8 names only); rename it',
    );
  });
});
