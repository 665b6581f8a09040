/**
 * The CLI on a DSTACK_HOME it cannot write (a full disk, a read-only one): each command says
 * so, naming the folder, rather than "internal error", and leaves nothing behind that holds up
 * the commands after it once space is back (an empty start lock made each wait 30 s).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from '../fixtures/small-disk.js';
import { stringify } from 'yaml';
import { Sandbox } from './harness.js';

describe('the CLI with DSTACK_HOME on a disk it cannot write', () => {
  let disk: SmallDisk;
  let sb: Sandbox;
  beforeAll(async () => {
    disk = await mountSmallDisk(8);
    sb = await Sandbox.create({ under: disk.path });
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: hi\n    commands: [echo hi]\n' });
  });
  afterEach(async () => {
    await disk.readOnly(false);
    await sb.dstack(['server', 'stop', '--force']);
    await disk.free();
  });
  afterAll(async () => {
    await sb?.dispose();
    await disk?.unmount();
  });

  const serverDir = () => join(sb.home, 'server');

  it('says the disk is full when the local server cannot be started, and starts it once space is back', async () => {
    await disk.fill();
    const full = await sb.dstack(['status']);
    expect(full.stderr).toBe(
      `error: the disk holding ${serverDir()} is full (no space left on device) while starting the local dstack ` +
        'server: free space on it, or set DSTACK_HOME to a folder on another disk\n',
    );
    expect(full.code).toBe(1);
    expect(existsSync(join(serverDir(), 'server.lock'))).toBe(false);

    await disk.free();
    const started = Date.now();
    const again = await sb.dstack(['status']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000); // not the 30 s of waiting on a lock no one holds
  });

  it('takes an empty start lock for one left behind, not for a start under way', async () => {
    // As a CLI killed between creating the lock and writing its pid into it leaves it (or an earlier version on a full disk).
    await mkdir(serverDir(), { recursive: true });
    await writeFile(join(serverDir(), 'server.lock'), '');
    const started = Date.now();
    const status = await sb.dstack(['status']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('says the disk is full when the local server exits as it starts for want of room', async () => {
    await disk.fill(16 << 10); // room for the start's lock, not for the server's database
    const full = await sb.dstack(['status']);
    expect(full.stderr).toMatch(
      new RegExp(
        `^error: the local dstack server exited as it started: the disk holding ${serverDir()} is full ` +
          '\\([\\d.]+KB free\\): free space on it, or set DSTACK_HOME to a folder on another disk\\n$',
      ),
    );
    expect(full.code).toBe(1);
    await disk.free();
    expect((await sb.dstack(['status'])).code).toBe(0);
  });

  it("names the local server's folder when its storage is full", async () => {
    expect((await sb.dstack(['status'])).code).toBe(0); // the server is running
    await disk.fill();
    const run = await sb.dstack(['run', 'hi']);
    expect(run.stderr).toBe(
      `error: the disk holding ${serverDir()} (the local dstack server's data) is full: free space on it, ` +
        'or set DSTACK_HOME to a folder on another disk\n',
    );
    expect(run.code).toBe(1);
  });

  it('says the folder is read-only', async () => {
    await disk.readOnly(true);
    const refused = await sb.dstack(['status']);
    expect(refused.stderr).toBe(
      `error: ${serverDir()} is on a read-only file system while starting the local dstack server: ` +
        'set DSTACK_HOME to a folder on another disk\n',
    );
    expect(refused.code).toBe(1);
  });

  it('keeps config.yml as it was when saving it fails', async () => {
    // One page of a file (4 KiB) that the switch to profile `long` makes longer than a page:
    // written in place, it was emptied and then cut short, its profiles and tokens lost.
    const long = 'b'.repeat(40);
    const text = (pad: number) =>
      stringify({
        current: 'a',
        profiles: {
          a: { server: 'http://127.0.0.1:1', token: 't'.repeat(pad) },
          [long]: { server: 'http://127.0.0.1:2', token: 'u' },
        },
      });
    const saved = text(4081 - text(1).length);
    expect(saved.length).toBe(4080);
    const config = join(sb.home, 'config.yml');
    await mkdir(sb.home, { recursive: true });
    await writeFile(config, saved);
    await disk.fill();
    const full = await sb.dstack(['config', '--profile', long]);
    expect(full.stderr).toBe(
      `error: the disk holding ${sb.home} is full (no space left on device) while saving config.yml ` +
        '(left unchanged): free space on it\n',
    );
    expect(full.code).toBe(1);
    expect(await readFile(config, 'utf8')).toBe(saved);
  });
});
