/**
 * Evicting cached virtualenvs, on real folders: by age and by total size (least recently used
 * first), never one a job holds or used while the pass waited, removing no file a planted link
 * points at; and what earlier versions left (`venvs/<20 hex>`) removed at a runner's start.
 */
import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readVenvCacheLimits } from '../../src/settings.js';
import { Trash } from '../../src/runner/trash.js';
import { evictVenvs, removeOldVenvs, VenvEviction } from '../../src/runner/venv-eviction.js';
import { cachedVenv, holdVenv, isReady, lockVenv, touchVenv, type CachedVenv } from '../../src/runner/venv-cache.js';

const DAY = 24 * 3600 * 1000;
const MiB = 2 ** 20;
const NOW = Date.now();
const now = () => NOW;

let root: string;
let trash: Trash;
const discard = (path: string) => trash.discard(path);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'venv-eviction-'));
  trash = new Trash(join(root, 'trash'));
});
afterEach(async () => {
  await trash.empty();
  await rm(root, { recursive: true, force: true });
});

/** A cached virtualenv of `bytes` (in one file), last used `daysAgo`; unmarked when `ready` is false. */
async function venv(name: string, daysAgo: number, { bytes = 1024, ready = true } = {}): Promise<CachedVenv> {
  const v = cachedVenv(root, 'alice', 'python3.11', `${name}\n`);
  await mkdir(join(v.env, 'bin'), { recursive: true });
  await writeFile(join(v.env, 'bin', 'python'), Buffer.alloc(bytes, 1));
  if (ready) {
    await writeFile(v.mark, `${name}\n`);
    const at = new Date(NOW - daysAgo * DAY);
    await utimes(v.mark, at, at);
  }
  return v;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('evictVenvs', () => {
  it('removes virtualenvs unused for longer than the age limit, and keeps the others', async () => {
    const [old, week, fresh] = [await venv('old', 10), await venv('week', 6), await venv('fresh', 0)];
    const evicted = await evictVenvs(root, { maxAgeMs: 7 * DAY, maxBytes: 0 }, { discard, now });
    expect(evicted).toEqual([{ folder: old.folder, why: 'unused for 10.0 days' }]);
    expect(await exists(old.folder)).toBe(false);
    expect(await isReady(week)).toBe(true);
    expect(await isReady(fresh)).toBe(true);
  });

  it('past the size limit, removes the least recently used first, until under it', async () => {
    const a = await venv('a', 3, { bytes: MiB });
    const b = await venv('b', 1, { bytes: MiB });
    const c = await venv('c', 2, { bytes: MiB });
    const evicted = await evictVenvs(root, { maxAgeMs: 0, maxBytes: 2.5 * MiB }, { discard, now });
    expect(evicted.map((e) => e.folder)).toEqual([a.folder]);
    expect(evicted[0]!.why).toMatch(/^least recently used, with the cache at 3\.\dMB, over 2\.6MB$/);
    expect([await isReady(b), await isReady(c)]).toEqual([true, true]);
  });

  it('never removes one a job holds, however old or large, and counts its use once let go', async () => {
    const held = await venv('held', 30, { bytes: MiB });
    const other = await venv('other', 1, { bytes: MiB });
    const letGo = holdVenv(held);
    const evicted = await evictVenvs(root, { maxAgeMs: 7 * DAY, maxBytes: MiB / 2 }, { discard, now: Date.now });
    expect(evicted.map((e) => e.folder)).toEqual([other.folder]);
    expect(await isReady(held)).toBe(true);
    await letGo();
    // Its use just now recorded: no longer over the age limit (the size limit is left out).
    expect(await evictVenvs(root, { maxAgeMs: 7 * DAY, maxBytes: 0 }, { discard, now: Date.now })).toEqual([]);
  });

  it('removes a build a crash cut short, but not one being built', async () => {
    const cut = await venv('cut', 0, { ready: false });
    const building = await venv('building', 0, { ready: false });
    const letGo = holdVenv(building);
    const evicted = await evictVenvs(root, { maxAgeMs: 7 * DAY, maxBytes: 0 }, { discard, now });
    expect(evicted).toEqual([{ folder: cut.folder, why: 'never finished building' }]);
    expect(await exists(building.env)).toBe(true);
    await letGo();
  });

  it('keeps a virtualenv that a job used while the pass waited for its lock', async () => {
    const old = await venv('old', 10);
    const release = await lockVenv(old.folder); // a job reusing it, between its lock and its touch
    const pass = evictVenvs(root, { maxAgeMs: 7 * DAY, maxBytes: 0 }, { discard, now: Date.now });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await touchVenv(old);
    release();
    expect(await pass).toEqual([]);
    expect(await isReady(old)).toBe(true);
  });

  it('removes links a job planted in a virtualenv, not what they point at, and leaves a linked folder alone', async () => {
    const outside = join(root, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'keep me');
    const old = await venv('old', 10);
    await symlink(outside, join(old.env, 'lib-link'));
    await symlink(join(outside, 'precious'), join(old.env, 'file-link'));
    // A folder of the cache's name that is a link: not a virtualenv of this runner's.
    await symlink(outside, join(root, 'venvs', 'f'.repeat(32)));
    const evicted = await evictVenvs(root, { maxAgeMs: 7 * DAY, maxBytes: 1 }, { discard, now });
    expect(evicted.map((e) => e.folder)).toEqual([old.folder]);
    await trash.empty();
    expect(await readdir(join(root, 'trash'))).toEqual([]);
    expect(await readdir(outside)).toEqual(['precious']);
    expect(await exists(join(root, 'venvs', 'f'.repeat(32)))).toBe(true);
  });
});

describe('removeOldVenvs', () => {
  it("removes earlier versions' folders (venvs/<20 hex>) without following their links, and nothing else", async () => {
    const outside = join(root, 'outside');
    await mkdir(join(outside), { recursive: true });
    await writeFile(join(outside, 'precious'), 'keep me');
    const old = join(root, 'venvs', 'a'.repeat(20));
    await mkdir(join(old, 'bin'), { recursive: true });
    await writeFile(join(old, '.dstack-ready'), 'numpy\n');
    await symlink(outside, join(old, 'bin', 'planted'));
    const current = await venv('current', 0);
    await mkdir(join(root, 'venvs', 'notes'));
    expect(await removeOldVenvs(root, discard)).toEqual([old]);
    await trash.empty();
    expect((await readdir(join(root, 'venvs'))).sort()).toEqual([current.folder.split('/').at(-1), 'notes'].sort());
    expect(await readdir(outside)).toEqual(['precious']);
  });
});

describe('VenvEviction', () => {
  it("at a runner's start removes the old layout and evicts, saying what and why", async () => {
    await mkdir(join(root, 'venvs', 'b'.repeat(20)), { recursive: true });
    const old = await venv('old', 8);
    const lines: string[] = [];
    const eviction = new VenvEviction(
      root,
      { maxAgeMs: 7 * DAY, maxBytes: 0 },
      { discard, now, log: (t) => lines.push(t), warn: (t) => lines.push(`warn: ${t}`) },
    );
    await eviction.atStart();
    expect(lines).toEqual([
      'removed 1 virtualenv folder of an earlier dstack version',
      `removed the cached virtualenv ${old.folder}: unused for 8.0 days`,
    ]);
  });

  it('makes one pass of those asked for before it starts, and a new one after', async () => {
    const eviction = new VenvEviction(
      root,
      { maxAgeMs: 7 * DAY, maxBytes: 0 },
      { discard, now, log: () => {}, warn: () => {} },
    );
    const first = eviction.afterBuild();
    const [second, third] = [eviction.afterBuild(), eviction.afterBuild()];
    expect(second).toBe(first); // not started yet: the same pass
    await first;
    await venv('old', 9);
    const next = eviction.afterBuild();
    expect(next).not.toBe(first);
    await next;
    expect(await readdir(join(root, 'venvs'))).toEqual([]);
    expect(third).toBe(first);
  });
});

describe('readVenvCacheLimits', () => {
  it("defaults to a week and 20GB; a runner's flags win over the environment; 0 turns a limit off", () => {
    expect(readVenvCacheLimits({}, {})).toEqual({ maxAgeMs: 7 * DAY, maxBytes: 20e9 });
    const env = { DSTACK_VENV_CACHE_DAYS: '2', DSTACK_VENV_CACHE_SIZE: '5GiB' };
    expect(readVenvCacheLimits({}, env)).toEqual({ maxAgeMs: 2 * DAY, maxBytes: 5 * 2 ** 30 });
    expect(readVenvCacheLimits({ venvCacheDays: '0', venvCacheSize: '0' }, env)).toEqual({ maxAgeMs: 0, maxBytes: 0 });
  });

  it('refuses a value it cannot read, naming where it came from', () => {
    expect(() => readVenvCacheLimits({}, { DSTACK_VENV_CACHE_DAYS: 'soon' })).toThrow(
      "invalid DSTACK_VENV_CACHE_DAYS 'soon': expected a number of days, or 0 for no age limit",
    );
    expect(() => readVenvCacheLimits({ venvCacheDays: '-1' }, {})).toThrow(
      "invalid --venv-cache-days '-1': expected a number of days, or 0 for no age limit",
    );
    expect(() => readVenvCacheLimits({ venvCacheSize: 'lots' }, {})).toThrow(
      "invalid --venv-cache-size 'lots': expected a size like 20GB, or 0 for no size limit",
    );
  });
});
