/**
 * One server process a data folder. A second one on the same database, logs and runner work
 * dir (a foreground `dstack server` beside the CLI's background one) would take over the
 * first one's runner and its jobs, and leave it with no runner at all.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '../client/process-alive.js';
import { ConflictError } from '../core/errors.js';

const FILE = 'server.pid';

/** Claim `dataDir` for this process; returns what gives it back. Refuses one another live process holds. */
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        if ((await holder(file)) === process.pid) await rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = await holder(file);
    if (pid === process.pid) return async () => undefined; // a server of this process's (tests): its own to give back
    if (pid !== undefined && isAlive(pid)) {
      throw new ConflictError(
        `another dstack server (pid ${pid}) uses ${dataDir}: stop it first (the CLI's background server: ` +
          `dstack server stop), or give this one another --data-dir (if pid ${pid} is no dstack server, delete ${file})`,
      );
    }
    if (attempt === 3) throw new ConflictError(`could not claim ${dataDir}: ${file} keeps changing`);
    await rm(file, { force: true }); // left by a server that died
  }
}

async function holder(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
