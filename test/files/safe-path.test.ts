import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/core/records.js';
import { describeArtifact } from '../../src/files/manifest.js';
import { isInside, normalizeRelative, prepareWrite } from '../../src/files/safe-path.js';
import { downloadFiles } from '../../src/files/download.js';
import type { ApiClient } from '../../src/client/api-client.js';

const base = await mkdtemp(join(tmpdir(), 'dstack-safe-'));
afterAll(() => rm(base, { recursive: true, force: true }));
let n = 0;
/** A fresh `out` folder with a sibling `secret` folder it must never write into. */
async function sandbox() {
  const dir = join(base, `s${++n}`);
  await mkdir(join(dir, 'out'), { recursive: true });
  await mkdir(join(dir, 'secret'), { recursive: true });
  await writeFile(join(dir, 'secret', 'key'), 'do not touch');
  return { out: join(dir, 'out'), secret: join(dir, 'secret') };
}

/** No blob is ever fetched in these tests: every download is refused before that. */
const noClient = {} as ApiClient;

describe('safe paths', () => {
  it('normalizeRelative keeps paths inside and refuses absolute, .. and empty ones', () => {
    expect(normalizeRelative('a/./b//c')).toBe('a/b/c');
    expect(() => normalizeRelative('/etc/passwd')).toThrow("path '/etc/passwd' is absolute");
    // A backslash is part of a name on POSIX (a job on Linux may write one), and refused on Windows.
    expect(normalizeRelative('out/..\\weird.txt', 'linux')).toBe('out/..\\weird.txt');
    expect(normalizeRelative('\\\\server\\share', 'linux')).toBe('\\\\server\\share');
    expect(() => normalizeRelative('out/..\\weird.txt', 'win32')).toThrow(
      "path 'out/..\\weird.txt' has a name with '\\' or ':', which this system cannot write",
    );
    expect(() => normalizeRelative('c:x', 'win32')).toThrow('which this system cannot write');
    expect(() => normalizeRelative('a/../../b')).toThrow("path 'a/../../b' leaves its folder");
    expect(() => normalizeRelative('..')).toThrow('leaves its folder');
    expect(() => normalizeRelative('./')).toThrow("path './' is empty");
  });

  it('isInside tells a folder from its look-alike sibling', () => {
    expect(isInside('/a/out', '/a/out/x')).toBe(true);
    expect(isInside('/a/out', '/a/out')).toBe(true);
    expect(isInside('/a/out', '/a/outside/x')).toBe(false);
    expect(isInside('/a/out', '/a/x')).toBe(false);
  });

  it('prepareWrite refuses to write through a folder symlink that leads out', async () => {
    const { out, secret } = await sandbox();
    await symlink(secret, join(out, 'link'));
    await expect(prepareWrite(out, 'link/key')).rejects.toThrow(
      `path 'link/key' leads out of ${out} through a symlink`,
    );
    expect(await readFile(join(secret, 'key'), 'utf8')).toBe('do not touch');
  });

  it('prepareWrite replaces a symlink at the target instead of writing through it', async () => {
    const { out, secret } = await sandbox();
    await symlink(join(secret, 'key'), join(out, 'model.bin'));
    const target = await prepareWrite(out, 'model.bin');
    await writeFile(target, 'new');
    expect((await lstat(join(out, 'model.bin'))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(secret, 'key'), 'utf8')).toBe('do not touch');
  });

  it('an --output download refuses manifest paths that leave the folder', async () => {
    const { out } = await sandbox();
    const entry = (path: string): ManifestEntry => ({ path, size: 1, mode: 0o644, digest: 'a'.repeat(64) });
    await expect(downloadFiles(noClient, out, [entry('../secret/key')])).rejects.toThrow('leaves its folder');
    await expect(downloadFiles(noClient, out, [entry('/etc/passwd')])).rejects.toThrow('is absolute');
  });

  it('an --output download refuses a symlink entry that points out of the folder, and makes one inside', async () => {
    const { out, secret } = await sandbox();
    const link = (path: string, target: string): ManifestEntry => ({ path, size: 0, mode: 0o777, link: target });
    await expect(downloadFiles(noClient, out, [link('escape', '../secret')])).rejects.toThrow(
      `symlink 'escape' -> '../secret' would lead out of ${out}`,
    );
    await expect(downloadFiles(noClient, out, [link('abs', secret)])).rejects.toThrow('would lead out of');
    // Each link alone stays inside; together (a/b is the root itself) the second would point out.
    await expect(downloadFiles(noClient, out, [link('a/b', '..'), link('a/b/c/d', '../..')])).rejects.toThrow(
      "symlink 'a/b/c/d' -> '../..' would lead out of",
    );
    expect(await readdir(out)).toEqual([]); // refused before the first link was written
    await downloadFiles(noClient, out, [link('dir/latest', '../model.bin')]);
    expect(await readlink(join(out, 'dir', 'latest'))).toBe('../model.bin');
  });

  it('an --output download refuses, before writing anything, a link that leads out through another link', async () => {
    const { out } = await sandbox();
    const entry: ManifestEntry = { path: 'out/a.txt', size: 1, mode: 0o644, digest: 'a'.repeat(64) };
    const link = (path: string, target: string): ManifestEntry => ({ path, size: 0, mode: 0o777, link: target });
    // Each alone ends inside; the kernel follows y first (to the root), so x lands far above it.
    const y = link('out/a/b/c/d/y', '../../../..');
    const x = link('out/a/b/c/d/x', 'y/../../../../..');
    await expect(downloadFiles(noClient, out, [entry, y, x])).rejects.toThrow(
      `symlink 'out/a/b/c/d/x' -> 'y/../../../../..' would lead out of ${out}`,
    );
    expect(await readdir(out)).toEqual([]);
    // The link it goes through may be on disk already, not in the manifest.
    await mkdir(join(out, 'out/a/b/c/d'), { recursive: true });
    await symlink('../../../..', join(out, 'out/a/b/c/d/y'));
    await expect(downloadFiles(noClient, out, [entry, x])).rejects.toThrow(
      `symlink 'out/a/b/c/d/x' -> 'y/../../../../..' would lead out of ${out}`,
    );
    expect(await readdir(join(out, 'out'))).toEqual(['a']);
  });

  it('an artifact keeps a symlink inside it and leaves out one that points outside', async () => {
    const { out, secret } = await sandbox();
    await mkdir(join(out, 'ckpt'));
    await writeFile(join(out, 'ckpt', 'a.bin'), 'a');
    await symlink('a.bin', join(out, 'ckpt', 'latest'));
    await symlink(join(secret, 'key'), join(out, 'ckpt', 'stolen'));
    await symlink('../../secret/key', join(out, 'ckpt', 'stolen2'));
    const files = await describeArtifact(out, 'ckpt');
    expect(files?.map((f) => [f.path, f.link ?? null])).toEqual([
      ['ckpt/a.bin', null],
      ['ckpt/latest', 'a.bin'],
    ]);
  });
});
