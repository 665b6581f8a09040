/**
 * An artifact's empty folders come back with its files, with their modes, whether the files
 * come over HTTP or are copied from the store's folder on this machine; their paths are kept
 * inside the download's folder as files' are.
 */
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import type { ManifestEntry } from '../../src/core/records.js';
import { downloadFiles } from '../../src/files/download.js';
import { describeArtifact } from '../../src/files/manifest.js';
import { uploadFiles } from '../../src/files/transfer.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { freshDirs } from './fresh-dirs.js';

const freshDir = await freshDirs('dstack-download-folders-');

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('downloads of an artifact with empty folders', () => {
  let t: TestServer;
  let entries: ManifestEntry[];
  beforeAll(async () => {
    t = await startTestServer();
    const ws = await freshDir();
    for (const [path, mode] of [
      ['tools/logs', 0o750],
      ['tools/cache/a/b', 0o755],
      ['tools/sealed', 0o500], // read-only: it comes back writable by its owner
    ] as const) {
      await mkdir(join(ws, path), { recursive: true });
      await chmod(join(ws, path), mode);
    }
    await writeFile(join(ws, 'tools/bin.txt'), 'x\n');
    entries = (await describeArtifact(ws, 'tools'))!;
    await uploadFiles(t.client, ws, entries);
  });
  afterAll(() => t?.stop());

  const expectRestored = async (out: string) => {
    expect(await readFile(join(out, 'tools/bin.txt'), 'utf8')).toBe('x\n');
    expect(await readdir(join(out, 'tools/logs'))).toEqual([]);
    expect(await modeOf(join(out, 'tools/logs'))).toBe(0o750);
    expect(await readdir(join(out, 'tools/cache/a/b'))).toEqual([]);
    expect(await modeOf(join(out, 'tools/cache/a/b'))).toBe(0o755);
    expect(await modeOf(join(out, 'tools/sealed'))).toBe(0o700);
  };

  it('scans to one entry for each empty folder', () => {
    expect(entries.filter((e) => e.folder).map((e) => [e.path, e.mode])).toEqual([
      ['tools/cache/a/b', 0o755],
      ['tools/logs', 0o750],
      ['tools/sealed', 0o500],
    ]);
  });

  it('makes them over HTTP', async () => {
    const out = await freshDir();
    const stats = await downloadFiles(t.client, out, entries);
    expect(stats).toEqual({ files: 1, bytes: 2, requests: 1, folders: 3 });
    await expectRestored(out);
  });

  it("makes them when the files are copied from the server's blob folder on this machine", async () => {
    const local = new Client({ url: t.server.url, token: t.token, localBlobs: join(t.dataDir, 'artifacts') });
    const out = await freshDir();
    const stats = await downloadFiles(local, out, entries);
    expect(stats).toEqual({ files: 1, bytes: 2, requests: 0, copied: 1, folders: 3 });
    await expectRestored(out);
  });

  it('keeps a folder already there with what it holds, and replaces a link there rather than follow it', async () => {
    const out = await freshDir();
    const outside = await freshDir();
    await chmod(outside, 0o755);
    await mkdir(join(out, 'tools/logs'), { recursive: true });
    await writeFile(join(out, 'tools/logs/mine.txt'), 'mine');
    await symlink(outside, join(out, 'tools/sealed'));
    await downloadFiles(t.client, out, entries);
    expect(await readFile(join(out, 'tools/logs/mine.txt'), 'utf8')).toBe('mine');
    expect(await modeOf(join(out, 'tools/logs'))).toBe(0o750);
    expect((await lstat(join(out, 'tools/sealed'))).isDirectory()).toBe(true);
    expect(await modeOf(outside)).toBe(0o755);
  });

  it('skips a folder entry an older server stored without its field (neither digest nor link), as older runners do', async () => {
    const out = await freshDir();
    const stripped: ManifestEntry = { path: 'tools/logs', size: 0, mode: 0o750 };
    expect(await downloadFiles(t.client, out, [stripped])).toEqual({ files: 0, bytes: 0, requests: 0 });
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a folder whose path leaves the folder, or leads out through a link, before writing anything', async () => {
    const folder = (path: string): ManifestEntry => ({ path, size: 0, mode: 0o755, folder: true });
    const out = await freshDir();
    await expect(downloadFiles(t.client, out, [...entries, folder('tools/../../x')])).rejects.toThrow(
      "path 'tools/../../x' leaves its folder",
    );
    expect(await readdir(out)).toEqual([]);
    const outside = await freshDir();
    await symlink(outside, join(out, 'up'));
    await expect(downloadFiles(t.client, out, [folder('up/logs')])).rejects.toThrow(
      `path 'up/logs' leads out of ${out} through a symlink`,
    );
    expect(await readdir(outside)).toEqual([]);
  });
});
