/** One server process a data folder: a second is refused by name, one left by a dead server is taken over. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDataDir } from '../../src/server/data-dir-claim.js';

let dir: string;
const pidFile = () => join(dir, 'server.pid');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dstack-claim-'));
});

describe('claimDataDir', () => {
  let other: ReturnType<typeof spawn> | undefined;
  afterEach(() => void other?.kill('SIGKILL'));

  it('records this process, and gives the folder back', async () => {
    const release = await claimDataDir(dir);
    expect(await readFile(pidFile(), 'utf8')).toBe(`${process.pid}\n`);
    await release();
    expect(existsSync(pidFile())).toBe(false);
  });

  it('refuses a folder another live process holds, naming it, the way out and the file', async () => {
    other = spawn('sleep', ['30']);
    await writeFile(pidFile(), `${other.pid}\n`);
    await expect(claimDataDir(dir)).rejects.toThrow(
      `another dstack server (pid ${other.pid}) uses ${dir}: stop it first (the CLI's background server: ` +
        `dstack server stop), or give this one another --data-dir (if pid ${other.pid} is no dstack server, ` +
        `delete ${pidFile()})`,
    );
    expect(await readFile(pidFile(), 'utf8')).toBe(`${other.pid}\n`);
  });

  it('takes over a folder whose server died, or whose file is torn', async () => {
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('exit', resolve));
    for (const left of [`${dead.pid}\n`, '']) {
      await writeFile(pidFile(), left);
      const release = await claimDataDir(dir);
      expect(await readFile(pidFile(), 'utf8')).toBe(`${process.pid}\n`);
      await release();
    }
  });

  it('gives back only its own claim', async () => {
    const release = await claimDataDir(dir);
    other = spawn('sleep', ['30']);
    await writeFile(pidFile(), `${other.pid}\n`); // deleted by hand and claimed by another since
    await release();
    expect(await readFile(pidFile(), 'utf8')).toBe(`${other.pid}\n`);
  });
});
