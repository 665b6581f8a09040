/**
 * Removing finished jobs' folders off the runner's thread. A job's folder can hold thousands
 * of files (a checkout, a dataset it unpacked), and removing them one call at a time on the
 * thread that also serves the server's requests held up everything else for as long (100 ms
 * for 10,000 files). A folder is renamed into the trash at once, so the job's slot is free and
 * its name gone; an `rm -rf` process empties the trash a moment later, one at a time, on a
 * core of its own. A runner starting up empties what an earlier one left there.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * How long a discarded folder waits for others to join its sweep: a busy runner starts one
 * `rm` a second, not one per job (a spawn costs the runner's thread about 4 ms).
 */
const SWEEP_DELAY_MS = 1000;
/** Entries given to one `rm`: well inside any command line's limit. */
const PER_SWEEP = 1000;

export class Trash {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private ready: Promise<unknown> | undefined;

  constructor(readonly dir: string) {}

  /** Move `path` into the trash; nothing there is not an error. */
  async discard(path: string): Promise<void> {
    try {
      await (this.ready ??= mkdir(this.dir, { recursive: true }));
      await rename(path, join(this.dir, randomBytes(8).toString('hex')));
    } catch {
      // Gone already, another filesystem, a trash folder removed under us: removed here after all.
      this.ready = undefined;
      await rm(path, { recursive: true, force: true });
      return;
    }
    this.timer ??= setTimeout(() => void this.sweep(), SWEEP_DELAY_MS).unref();
  }

  /** Empty the trash now, as far as `rm` can (startup, tests). */
  async empty(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await this.sweep();
  }

  private async sweep(): Promise<void> {
    this.timer = undefined;
    if (this.sweeping) return this.sweeping.then(() => this.sweep());
    this.sweeping = (async () => {
      // Until empty, or until a pass removes nothing (a file rm cannot remove stays for the next start).
      for (let left = Infinity; ;) {
        const names = await readdir(this.dir).catch(() => [] as string[]);
        if (names.length === 0 || names.length >= left) return;
        left = names.length;
        await removeAll(names.slice(0, PER_SWEEP).map((n) => join(this.dir, n)));
      }
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }
}

/** `rm -rf` in a process of its own; where there is none to start, removed here. */
function removeAll(paths: string[]): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const end = (ok: boolean) => {
      if (settled) return;
      settled = true;
      if (ok) return resolve();
      void Promise.all(paths.map((p) => rm(p, { recursive: true, force: true }).catch(() => {}))).then(() => resolve());
    };
    const child = spawn('rm', ['-rf', '--', ...paths], { stdio: 'ignore' });
    child.once('error', () => end(false));
    child.once('close', (code) => end(code === 0));
  });
}
