import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { storeMigrations } from '../../src/server/store/migrations/index.js';
import { openSqliteDatabase, openSqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { makeRun, PROJECT, rowBefore0009, tagScope, type DatabaseBefore0009 } from './fixtures.js';

describe('migration 0009-project-runs', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  const gpt = { root: '/home/ada/gpt', remote: 'git@github.com:ada/gpt.git', subdir: 'ml' };

  function migrator(path: string): { db: Kysely<DatabaseBefore0009>; migrator: Migrator } {
    const db = new Kysely<DatabaseBefore0009>({ dialect: new SqliteDialect({ database: openSqliteDatabase(path) }) });
    return { db, migrator: new Migrator({ db, provider: { getMigrations: async () => storeMigrations('sqlite') } }) };
  }

  async function storeMigratedFrom0008(
    runs: { name: string; repo?: typeof gpt; tag?: string }[],
    path = join(mkdtempSync(join(tmpdir(), 'dstack-projects-')), 'state.db'),
  ): Promise<Store> {
    const { db, migrator: m } = migrator(path);
    expect((await m.migrateTo('0008-user-tags')).error).toBeUndefined();
    for (const { name, repo, tag } of runs) {
      const row = rowBefore0009(makeRun(name, repo ? { repo } : {}));
      // Between 0008 and 0009 the column held `USER:TAG`.
      await db
        .insertInto('runs')
        .values({ ...row, tag: tag === undefined ? null : `ada:${tag}` })
        .execute();
    }
    await db.destroy();
    const store = await openSqliteStore(path);
    open.push(store);
    return store;
  }

  it("files each stored run under its repo's project, and keeps its tag there", async () => {
    const store = await storeMigratedFrom0008([
      { name: 'gpt-1', repo: gpt, tag: 'best' },
      { name: 'gpt-2', repo: gpt },
      { name: 'local-1', tag: 'data-v1' },
    ]);
    expect((await store.listRuns({ project: 'github.com/ada/gpt#ml' })).map((r) => r.name).sort()).toEqual([
      'gpt-1',
      'gpt-2',
    ]);
    expect((await store.listRuns({ project: PROJECT })).map((r) => r.name)).toEqual(['local-1']);
    expect((await store.getRunByTag(tagScope('ada', 'github.com/ada/gpt#ml'), 'best'))?.name).toBe('gpt-1');
    expect((await store.getRunByTag(tagScope(), 'data-v1'))?.name).toBe('local-1');
    expect((await store.getRun('gpt-1'))?.tag).toBe('best');
    // The other project's name is free now.
    await store.setTag('local-1', 'best');
    expect((await store.getRunByTag(tagScope(), 'best'))?.name).toBe('local-1');
  });

  it('migrates back: the project column goes and tags are per user again, the later of a clash dropped', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dstack-projects-')), 'state.db');
    const store = await storeMigratedFrom0008([{ name: 'gpt-1', repo: gpt, tag: 'best' }, { name: 'local-1' }], path);
    await store.setTag('local-1', 'best');
    await store.close();
    open.splice(0);

    const { db, migrator: m } = migrator(path);
    expect((await m.migrateTo('0008-user-tags')).error).toBeUndefined();
    const rows = await db.selectFrom('runs').selectAll().orderBy('name').execute();
    expect(rows.map((r) => [r.name, r.tag])).toEqual([
      ['gpt-1', 'ada:best'],
      ['local-1', null],
    ]);
    expect(rows.some((r) => 'project' in r)).toBe(false);
    await db.destroy();
  });
});
