/** An artifact path is read only inside its workspace: a link on it that leads out is left out, named. */
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanArtifact } from '../../src/files/manifest.js';

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
