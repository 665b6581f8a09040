/**
 * A manifest's mode is applied only as permission bits: a crafted one (a runner token can PUT
 * any manifest) with setuid, setgid, sticky or file-type bits must not make a restore write a
 * setuid file, whichever way the restore writes it (streamed, packed, copied, from the store's
 * folder on this machine) and for folders too.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import type { ManifestEntry } from '../../src/core/records.js';
import { downloadFiles } from '../../src/files/download.js';
import { describeArtifact } from '../../src/files/manifest.js';
import { uploadFiles } from '../../src/files/transfer.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { freshDirs } from './fresh-dirs.js';

const freshDir = await freshDirs('dstack-download-modes-');

/** All the bits chmod takes: permissions plus setuid, setgid and sticky. */
const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

describe('downloads of a manifest whose modes carry more than permission bits', () => {
  let t: TestServer;
  let entries: ManifestEntry[];
  beforeAll(async () => {
    t = await startTestServer();
    const ws = await freshDir();
    await mkdir(join(ws, 'out'));
    await writeFile(join(ws, 'out/big.bin'), randomBytes(2 << 20)); // streamed on its own
    await writeFile(join(ws, 'out/small.txt'), 'small\n'); // in a pack
    const scanned = (await describeArtifact(ws, 'out'))!;
    await uploadFiles(t.client, ws, scanned);
    const crafted = 0o106777; // a regular file's type, setuid, setgid, rwx for all
    const files = scanned.map((e) => ({ ...e, mode: crafted }));
    // A second path of each content: written as a copy of the first.
    const copies = files.map((e) => ({ ...e, path: `${e.path}.copy` }));
    const folder: ManifestEntry = { path: 'out/empty', size: 0, mode: 0o041777, folder: true }; // a folder's type, sticky
    entries = [...files, ...copies, folder];
  });
  afterAll(() => t?.stop());

  const expectPermissionsOnly = async (out: string) => {
    for (const path of ['big.bin', 'small.txt', 'big.bin.copy', 'small.txt.copy'])
      expect([path, await modeOf(join(out, 'out', path))]).toEqual([path, 0o777]);
    expect(await modeOf(join(out, 'out/empty'))).toBe(0o777);
  };

  it('applies only the permission bits over HTTP', async () => {
    const out = await freshDir();
    await downloadFiles(t.client, out, entries);
    await expectPermissionsOnly(out);
  });

  it("applies only the permission bits when copying from the server's blob folder on this machine", async () => {
    const local = new Client({ url: t.server.url, token: t.token, localBlobs: join(t.dataDir, 'artifacts') });
    const out = await freshDir();
    const stats = await downloadFiles(local, out, entries);
    expect(stats.copied).toBe(4);
    await expectPermissionsOnly(out);
  });

  it('adds what the owner needs to a mode without it, as before', async () => {
    const out = await freshDir();
    await downloadFiles(
      t.client,
      out,
      entries.map((e) => ({ ...e, mode: e.folder ? 0o040500 : 0o104400 })),
    );
    expect(await modeOf(join(out, 'out/small.txt'))).toBe(0o600);
    expect(await modeOf(join(out, 'out/big.bin.copy'))).toBe(0o600);
    expect(await modeOf(join(out, 'out/empty'))).toBe(0o700);
  });
});
