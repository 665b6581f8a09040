/** The server key: created on first use (0600, 32 bytes), kept, and AES-256-GCM that refuses anything altered. */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServerKey, serverKeyPath } from '../../src/server/crypto.js';

const dataDir = () => mkdtemp(join(tmpdir(), 'dstack-key-'));

describe('ServerKey', () => {
  it('creates <dataDir>/server.key at first use only, 32 bytes, mode 0600', async () => {
    const dir = await dataDir();
    const key = ServerKey.forDataDir(dir);
    await expect(stat(serverKeyPath(dir))).rejects.toThrow('ENOENT');
    await key.seal('x', 'ctx');
    const info = await stat(serverKeyPath(dir));
    expect(info.mode & 0o777).toBe(0o600);
    expect((await readFile(serverKeyPath(dir))).length).toBe(32);
  });

  it('seals without the plaintext in the output, and another instance on the same data dir opens it', async () => {
    const dir = await dataDir();
    const sealed = await ServerKey.forDataDir(dir).seal('ghp_secret-token', 'repo a');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('ghp_secret-token');
    expect(Buffer.from(sealed.slice(3), 'base64').includes('ghp_secret-token')).toBe(false);
    expect(await ServerKey.forDataDir(dir).open(sealed, 'repo a')).toBe('ghp_secret-token');
  });

  it('sealing the same text twice gives different bytes (a fresh IV each time)', async () => {
    const key = ServerKey.forDataDir(await dataDir());
    expect(await key.seal('same', 'c')).not.toBe(await key.seal('same', 'c'));
  });

  it('refuses another context, altered bytes and another key', async () => {
    const key = ServerKey.forDataDir(await dataDir());
    const sealed = await key.seal('secret', 'ada\0repo');
    await expect(key.open(sealed, 'bob\0repo')).rejects.toThrow('a stored secret does not decrypt with');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    await expect(key.open(`v1:${raw.toString('base64')}`, 'ada\0repo')).rejects.toThrow('does not decrypt');
    await expect(ServerKey.forDataDir(await dataDir()).open(sealed, 'ada\0repo')).rejects.toThrow('does not decrypt');
    await expect(key.open('plain text', 'ada\0repo')).rejects.toThrow('a stored secret has an unknown format');
  });

  it('two first uses at once create one key', async () => {
    const dir = await dataDir();
    const [a, b] = [ServerKey.forDataDir(dir), ServerKey.forDataDir(dir)];
    const [sa, sb] = await Promise.all([a.seal('one', 'c'), b.seal('two', 'c')]);
    expect(await b.open(sa, 'c')).toBe('one');
    expect(await a.open(sb, 'c')).toBe('two');
  });

  it('a key file of the wrong size is reported with its path', async () => {
    const dir = await dataDir();
    await writeFile(serverKeyPath(dir), 'short');
    await expect(ServerKey.forDataDir(dir).seal('x', 'c')).rejects.toThrow(
      `the server key ${serverKeyPath(dir)} has 5 bytes, not 32; restore it from a backup`,
    );
  });

  it('a key file readable by others is made 0600 again', async () => {
    const dir = await dataDir();
    await writeFile(serverKeyPath(dir), Buffer.alloc(32, 7), { mode: 0o644 });
    await ServerKey.forDataDir(dir).seal('x', 'c');
    expect((await stat(serverKeyPath(dir))).mode & 0o777).toBe(0o600);
  });
});
