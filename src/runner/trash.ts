/**
 * Removing finished jobs' folders off the runner's thread, and out of the way of the jobs that
 * are starting. A job's folder can hold thousands of files (a checkout, a dataset it unpacked),
 * and removing them one call at a time on the thread that also serves the server's requests held
 * up everything else for as long (100 ms for 10,000 files). A folder is renamed into the trash at
 * once, so the job's slot is free and its name gone; an `rm -rf` process at the lowest CPU
 * priority empties the trash later, when the runner has no job running (see `TrashOptions.busy`).
 * A runner starting up empties what an earlier one left there. A folder `rm` cannot remove (a
 * job's files another user owns) is said once, with why, and left until the runner starts again.
 */
import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runLowPriority } from './low-priority.js';
import { whyUnremovable } from './unremovable.js';
import { makeFolder } from '../files/make-folder.js';

export interface TrashOptions {
  /**
   * Whether the runner has jobs running. Removal waits while it has (up to `maxWaitMs`): it
   * competes with starting jobs for the disk and a core, and on ext4 without a journal every
   * inode it frees is skipped, one by one, by each folder or file created in the next minute.
   * A 1,000-job DAG's file-system time went from 3 to 5 s to about 1 s (bench/PROFILES.md).
   */
  busy?: () => boolean;
  /** How long a discarded folder waits for others to join its sweep, ms. */
  delayMs?: number;
  /** The longest a folder waits for the runner to be idle, ms: a runner that never is still frees its disk. */
  maxWaitMs?: number;
  /** Told once of each folder that cannot be removed, and why (the runner's log). */
  warn?: (message: string) => void;
}

/** A busy runner starts at most one `rm` a second, not one per job (a spawn costs its thread about 4 ms). */
const SWEEP_DELAY_MS = 1000;
const MAX_WAIT_MS = 30_000;
/** Entries given to one `rm`: well inside any command line's limit; this many waiting are swept at once. */
const PER_SWEEP = 1000;

export class Trash {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private ready: Promise<unknown> | undefined;
  /** When the oldest folder not yet swept was discarded, and how many have been since. */
  private waitingSince: number | undefined;
  private waiting = 0;
  /** Folders `rm` could not remove: said once, and not tried again by this process. */
  private readonly stuck = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly options: TrashOptions = {},
  ) {}

  /** Move `path` into the trash; nothing there is not an error. The rename is made in place (see raw-fs.ts). */
  async discard(path: string): Promise<void> {
    try {
      await (this.ready ??= makeFolder(this.dir));
      // Named after the job's folder too, for whoever looks into the trash.
      renameSync(path, join(this.dir, `${basename(path)}-${randomBytes(8).toString('hex')}`));
    } catch {
      // Gone already, another filesystem, a trash folder removed under us: removed here after all.
      this.ready = undefined;
      await rm(path, { recursive: true, force: true });
      return;
    }
    this.waitingSince ??= Date.now();
    this.waiting++;
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.sweepWhenDue(), this.options.delayMs ?? SWEEP_DELAY_MS).unref();
  }

  private sweepWhenDue(): void {
    this.timer = undefined;
    const waited = Date.now() - (this.waitingSince ?? Date.now());
    const due =
      !this.options.busy?.() || waited >= (this.options.maxWaitMs ?? MAX_WAIT_MS) || this.waiting >= PER_SWEEP;
    if (due) void this.sweep();
    else this.schedule();
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
    this.waitingSince = undefined;
    this.waiting = 0;
    if (this.sweeping) return this.sweeping.then(() => this.sweep());
    this.sweeping = (async () => {
      // Until empty but for what could not be removed: that stays for the next start.
      for (;;) {
        const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => !this.stuck.has(n));
        if (names.length === 0) return;
        const batch = names.slice(0, PER_SWEEP);
        let failure = await removeAll(batch.map((n) => join(this.dir, n)));
        let left = await this.left(batch);
        if (left.length > 0) {
          // Folders their owner may not write to (Go's module cache is 0555; a job may chmod 000):
          // made writable, where they are this user's, and removed again.
          const paths = left.map((n) => join(this.dir, n));
          await runLowPriority('chmod', ['-R', 'u+rwx', '--', ...paths]);
          failure = (await removeAll(paths)) ?? failure;
          left = await this.left(left);
        }
        for (const name of left) await this.giveUp(name, failure);
      }
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Those of `names` still in the trash. */
  private async left(names: readonly string[]): Promise<string[]> {
    const there = new Set(await readdir(this.dir).catch(() => [] as string[]));
    return names.filter((n) => there.has(n));
  }

  private async giveUp(name: string, failure: string | undefined): Promise<void> {
    this.stuck.add(name);
    const folder = join(this.dir, name);
    const why = (await whyUnremovable(folder)) ?? failure ?? 'rm left it';
    this.options.warn?.(`cannot remove ${folder}: ${why} (a runner tries again when it starts)`);
  }
}

/**
 * `rm -rf` in a process of its own (where there is none to start, removed here): undefined
 * when all went, else the first complaint.
 */
async function removeAll(paths: readonly string[]): Promise<string | undefined> {
  const result = await runLowPriority('rm', ['-rf', '--', ...paths]);
  if (result) return result.ok ? undefined : result.complaint || 'rm failed';
  const here = paths.map((p) => rm(p, { recursive: true, force: true }).then(() => undefined, String));
  return (await Promise.all(here)).find((e) => e !== undefined);
}
