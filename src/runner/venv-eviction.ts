/**
 * Removing the runner's cached virtualenvs (venv-cache.ts) that are not worth their disk: any
 * change to a requirements file, a comment's included, makes a new one (26 MB bare, gigabytes
 * with real dependencies), and nothing else ever removed them. A pass removes those unused for
 * longer than the age limit, then, while all of them together are over the size limit, the
 * least recently used; it runs at the runner's start and after each build. One a job holds
 * (building it, or running with it) is never removed; one is removed under its lock, and only
 * if no job has used it since the pass looked, so that a job that wants it meanwhile builds it
 * again rather than run in a folder going away. Removal is a rename into the runner's trash,
 * whose `rm -r` removes a link a job planted, not what it points at.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSize, plural } from '../core/resources.js';
import { DAY_MS, type VenvCacheLimits } from '../settings.js';
import { runLowPriority } from './low-priority.js';
import { lockVenv, venvAt, venvInUse, venvsFolder } from './venv-cache.js';

/** A cached virtualenv's folder: its key (venv-cache.ts). */
const KEY = /^[0-9a-f]{32}$/;
/** Earlier versions' folders, the virtualenv itself with a `.dstack-ready` inside: no version uses them now. */
const OLD_KEY = /^[0-9a-f]{20}$/;

export interface EvictionOptions {
  /** Moves a folder away to be removed (Trash.discard). */
  discard: (path: string) => Promise<void>;
  /** The clock, ms since the epoch (default Date.now). */
  now?: () => number;
}

export interface Evicted {
  folder: string;
  why: string;
}

interface Seen {
  folder: string;
  ready: boolean;
  /** Its mark's time (or, never marked, its folder's). */
  lastUsed: number;
}

/** One pass over `workRoot`'s cached virtualenvs: what it removed, and why. */
export async function evictVenvs(
  workRoot: string,
  limits: VenvCacheLimits,
  options: EvictionOptions,
): Promise<Evicted[]> {
  const now = options.now ?? Date.now;
  const dir = venvsFolder(workRoot);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => KEY.test(n));
  const found = (await Promise.all(names.map((n) => look(join(dir, n))))).filter((s) => s !== undefined);
  const evicted: Evicted[] = [];
  const kept: Seen[] = [];
  for (const seen of found) {
    const unused = now() - seen.lastUsed;
    // Not marked and not held: a build a crash cut short, which no job would use as it is.
    const why = !seen.ready
      ? 'never finished building'
      : limits.maxAgeMs > 0 && unused > limits.maxAgeMs
        ? `unused for ${(unused / DAY_MS).toFixed(1)} days`
        : undefined;
    if (why !== undefined && (await evict(seen, options))) evicted.push({ folder: seen.folder, why });
    else kept.push(seen);
  }
  if (limits.maxBytes <= 0) return evicted;
  const sizes = await Promise.all(kept.map((s) => diskUsage(s.folder)));
  let total = sizes.reduce((sum, size) => sum + size, 0);
  const byLastUse = kept
    .map((seen, i) => ({ seen, size: sizes[i]! }))
    .sort((a, b) => a.seen.lastUsed - b.seen.lastUsed);
  for (const { seen, size } of byLastUse) {
    if (total <= limits.maxBytes) break;
    if (!(await evict(seen, options))) continue;
    const why = `least recently used, with the cache at ${formatSize(total)}, over ${formatSize(limits.maxBytes)}`;
    evicted.push({ folder: seen.folder, why });
    total -= size;
  }
  return evicted;
}

/** Removes what earlier versions left in `venvs/` (at the runner's start): the folders removed. */
export async function removeOldVenvs(workRoot: string, discard: (path: string) => Promise<void>): Promise<string[]> {
  const dir = venvsFolder(workRoot);
  const old = (await readdir(dir).catch(() => [] as string[])).filter((n) => OLD_KEY.test(n)).map((n) => join(dir, n));
  for (const folder of old) await discard(folder);
  return old;
}

/** A folder of the cache as it is now; undefined for anything else (a link, a file). */
async function look(folder: string): Promise<Seen | undefined> {
  const dir = await lstat(folder).catch(() => undefined);
  if (!dir?.isDirectory()) return undefined;
  const mark = await lstat(venvAt(folder).mark).catch(() => undefined);
  const ready = mark?.isFile() === true;
  return { folder, ready, lastUsed: ready ? mark!.mtimeMs : dir.mtimeMs };
}

/** Removes `seen` under its lock, unless a job holds it or has used it since: whether it did. */
async function evict(seen: Seen, options: EvictionOptions): Promise<boolean> {
  if (venvInUse(seen.folder)) return false;
  const release = await lockVenv(seen.folder);
  try {
    const now = await look(seen.folder);
    if (venvInUse(seen.folder) || now?.ready !== seen.ready || now.lastUsed !== seen.lastUsed) return false;
    await options.discard(seen.folder);
    return true;
  } finally {
    release();
  }
}

/** The disk a folder takes, bytes, as `du` counts it (links not followed); 0 when it cannot tell. */
async function diskUsage(folder: string): Promise<number> {
  const result = await runLowPriority('du', ['-sk', '--', folder]);
  const kib = Number(/^\d+/.exec(result?.output ?? '')?.[0] ?? 0);
  return kib * 1024;
}

/**
 * A runner's passes, one at a time: at its start, with what earlier versions left, and after each
 * build (those asked for while one runs make one more pass). What they remove goes to its log.
 */
export class VenvEviction {
  private last: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(
    private readonly workRoot: string,
    private readonly limits: VenvCacheLimits,
    private readonly options: EvictionOptions & { log: (text: string) => void; warn: (text: string) => void },
  ) {}

  atStart(): Promise<void> {
    return this.pass(async () => {
      const old = await removeOldVenvs(this.workRoot, this.options.discard);
      if (old.length > 0)
        this.options.log(`removed ${plural(old.length, 'virtualenv folder')} of an earlier dstack version`);
    });
  }

  afterBuild(): Promise<void> {
    return this.pass();
  }

  /** Resolves once no pass runs or waits (a runner stopping). */
  settled(): Promise<void> {
    return this.last;
  }

  private pass(first?: () => Promise<void>): Promise<void> {
    if (this.queued && !first) return this.queued;
    const next = this.last.then(async () => {
      if (this.queued === next) this.queued = undefined;
      try {
        await first?.();
        for (const { folder, why } of await evictVenvs(this.workRoot, this.limits, this.options))
          this.options.log(`removed the cached virtualenv ${folder}: ${why}`);
      } catch (e) {
        this.options.warn(`removing cached virtualenvs failed: ${(e as Error).message}`);
      }
    });
    this.queued = next;
    this.last = next;
    return next;
  }
}
