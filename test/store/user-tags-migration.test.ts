import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { storeMigrations } from '../../src/server/store/migrations/index.js';
import { openSqliteDatabase, openSqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { makeRun, rowBefore0009, tagScope, type DatabaseBefore0009 } from './fixtures.js';

describe('migration 0008-user-tags', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it("keeps the tags stored before it as their users' own, and frees their names for other users", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dstack-tags-')), 'state.db');
    const db = new Kysely<DatabaseBefore0009>({ dialect: new SqliteDialect({ database: openSqliteDatabase(path) }) });
    const migrations = storeMigrations('sqlite');
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo('0007-job-indexes')).error).toBeUndefined();
    // Before 0008 the column held the tag as it was named.
    await db
      .insertInto('runs')
      .values({ ...rowBefore0009(makeRun('old')), tag: 'best' })
      .execute();
    await db
      .insertInto('runs')
      .values(rowBefore0009(makeRun('bobs', { user: 'bob' })))
      .execute();
    await db.destroy();

    const store = await openSqliteStore(path);
    open.push(store);
    expect((await store.getRunByTag(tagScope(), 'best'))?.name).toBe('old');
    expect((await store.getRun('old'))?.tag).toBe('best');
    await store.setTag('bobs', 'best');
    expect((await store.getRunByTag(tagScope('bob'), 'best'))?.name).toBe('bobs');
    expect((await store.getRunByTag(tagScope(), 'best'))?.name).toBe('old');
  });
});
