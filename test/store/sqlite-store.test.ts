import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { promisedTagQuery } from '../../src/server/store/cache-tags.js';
import { KyselyStore } from '../../src/server/store/kysely-store.js';
import { storeMigrations } from '../../src/server/store/migrations/index.js';
import type { Database } from '../../src/server/store/schema.js';
import { openSqliteDatabase, openSqliteStore, SqliteStoreDialect } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun, makeSpec, seedRun } from './fixtures.js';
import { describeStoreConformance } from './store-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'dstack-store-'));
let counter = 0;
/** A path no other test uses, in a directory that does not exist yet. */
const freshPath = (): string => join(root, `db-${++counter}`, 'dstack.sqlite');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describeStoreConformance('SQLite file', () => openSqliteStore(freshPath()));
describeStoreConformance('SQLite :memory:', () => openSqliteStore(':memory:'));

describe('openSqliteStore', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it('creates the database file and its directory, in WAL mode, with foreign keys and a busy timeout', () => {
    const path = freshPath();
    const db = openSqliteDatabase(path);
    try {
      expect(existsSync(path)).toBe(true);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    } finally {
      db.close();
    }
  });

  it("fails a write to a full database with SQLite's SQLITE_FULL, not a failed rollback, and goes on once there is room", async () => {
    const sqlite = openSqliteDatabase(freshPath());
    const store = new KyselyStore(new Kysely<Database>({ dialect: new SqliteStoreDialect(sqlite) }), {
      dialect: 'sqlite',
    });
    open.push(store);
    await store.migrate();
    // A database that may not grow: SQLite ends the run's transaction itself, as on a full disk.
    sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count', { simple: true }) as number}`);
    const run = makeRun('run-1');
    const job = makeJob(run, 'train', { spec: makeSpec('train', { commands: ['x'.repeat(100_000)] }) });
    await expect(store.createRun(run, [job], 'ada')).rejects.toMatchObject({
      code: 'SQLITE_FULL',
      message: 'database or disk is full',
    });
    sqlite.pragma('max_page_count = 1073741823');
    await store.createRun(run, [job], 'ada');
    expect(await store.getRun('run-1')).toStrictEqual(run);
  });

  it('keeps data across close and reopen, and reopening applies no migration twice', async () => {
    const path = freshPath();
    const first = await openSqliteStore(path);
    const { run } = await seedRun(first, 'run-1', ['train']);
    await first.close();

    const second = await openSqliteStore(path);
    open.push(second);
    expect(await second.getRun('run-1')).toStrictEqual(run);

    const raw = new SqliteDatabase(path, { readonly: true });
    try {
      const names = raw.prepare('select name from kysely_migration order by name').pluck().all();
      expect(names).toEqual(Object.keys(storeMigrations('sqlite')).sort());
    } finally {
      raw.close();
    }
  });

  it("looks up a cache key through the index of jobs that ran themselves, not each cached copy's row", async () => {
    const path = freshPath();
    open.push(await openSqliteStore(path));
    const raw = new SqliteDatabase(path, { readonly: true });
    try {
      const plan = raw
        .prepare(
          `explain query plan select id, run_name, cache_key from jobs where cache_key in (?, ?) and status in (?)
           and cached_from is null order by finished_at desc`,
        )
        .all('k1', 'k2', 'DONE') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('USING INDEX jobs_cache_origin');
      const followers = raw.prepare(`explain query plan select id from jobs where cached_from = ?`).all('j1') as {
        detail: string;
      }[];
      expect(followers.map((p) => p.detail).join('\n')).toContain('USING INDEX jobs_cached_from');
      const indexes = raw
        .prepare(`select name from sqlite_master where type = 'index' and tbl_name = 'jobs'`)
        .pluck()
        .all();
      expect(indexes).not.toContain('jobs_status'); // a prefix of jobs_status_order, gone with 0007
      expect(indexes).not.toContain('jobs_runner');
    } finally {
      raw.close();
    }
  });

  it("finds the run promised a tag among the runs submitted with one, not each of the project's runs", async () => {
    const path = freshPath();
    open.push(await openSqliteStore(path));
    const raw = new SqliteDatabase(path, { readonly: true });
    const db = new Kysely<Database>({ dialect: new SqliteStoreDialect(raw) });
    try {
      const planOf = (query: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
        const { sql, parameters } = query.compile();
        const plan = raw.prepare(`explain query plan ${sql}`).all(...parameters) as { detail: string }[];
        return plan.map((p) => p.detail).join('\n');
      };
      const scope = { user: 'ada', project: '/home/ada/project' };
      expect(planOf(promisedTagQuery(db, scope, 'nightly'))).toContain('USING INDEX runs_tag_on_done');
      expect(planOf(promisedTagQuery(db, scope, 'nightly', 'run-1'))).toContain('USING INDEX runs_tag_on_done');
    } finally {
      await db.destroy();
    }
  });

  it('a filter by a rare status reads the runs of that status by name, walking no others', async () => {
    const path = freshPath();
    open.push(await openSqliteStore(path));
    const executed: string[] = []; // each statement as SQLite ran it, its parameters in place
    const traced = new SqliteDatabase(path, { verbose: (sql) => executed.push(String(sql)) });
    const store = new KyselyStore(new Kysely<Database>({ dialect: new SqliteStoreDialect(traced) }), {
      dialect: 'sqlite',
    });
    open.push(store);
    for (let i = 0; i < 30; i++) {
      const run = makeRun(`run-${i}`, { submittedAt: i });
      await store.createRun(run, [makeJob(run, 'train', { status: i === 4 ? 'ABORTED' : 'DONE' })], 'ada');
    }
    executed.length = 0;
    expect((await store.listRuns({ status: 'ABORTED', limit: 50 })).map((r) => r.name)).toEqual(['run-4']);
    const raw = new SqliteDatabase(path, { readonly: true });
    try {
      const plans = executed.map((sql) =>
        (raw.prepare(`explain query plan ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join('\n'),
      );
      expect(plans.join('\n')).toContain('SEARCH runs');
      expect(plans.join('\n')).not.toContain('SCAN runs');
    } finally {
      raw.close();
    }
  });

  it('a transition made through one connection guards the same transition through another', async () => {
    const path = freshPath();
    const a = await openSqliteStore(path);
    const b = await openSqliteStore(path);
    open.push(a, b);
    const { jobs } = await seedRun(a, 'run-1', ['train']);
    const id = jobs[0]!.id;

    expect((await a.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'gpu-1')).ok).toBe(true);
    expect(await b.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-2' }, 'gpu-2')).toStrictEqual({
      ok: false,
      reason: 'status_mismatch',
      actual: 'DOWNLOADING',
    });
    expect((await b.getJob(id))?.runner).toBe('gpu-1');
  });

  it('stores times past 2^32 ms and reads them back as numbers', async () => {
    const store = await openSqliteStore(':memory:');
    open.push(store);
    const { run } = await seedRun(store, 'run-1', ['train'], { submittedAt: 253_402_300_799_000 });
    const read = await store.getRun('run-1');
    expect(typeof read?.submittedAt).toBe('number');
    expect(read).toStrictEqual(run);
  });
});
