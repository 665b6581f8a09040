import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, sql, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { atomic, storeMigrations } from '../../src/server/store/migrations/index.js';
import type { Database } from '../../src/server/store/schema.js';
import { openSqliteDatabase, openSqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { ConflictError } from '../../src/core/errors.js';
import { openStore } from '../../src/server/store/open-store.js';

const freshDb = () => {
  const path = join(mkdtempSync(join(tmpdir(), 'dstack-migrations-')), 'state.db');
  return { path, db: new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqliteDatabase(path) }) }) };
};

/** Names of the database's tables or indexes. */
async function schemaNames(db: Kysely<Database>, type: 'table' | 'index'): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from sqlite_master where type = ${type} order by name`.execute(db);
  return rows.map((r) => r.name);
}

describe('store migrations on SQLite', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it('a migration that fails part-way leaves nothing of itself, and the ones before it stay', async () => {
    const { db } = freshDb();
    const broken = atomic({
      async up(trx) {
        await trx.schema.createTable('half_done').addColumn('x', 'integer').execute();
        throw new Error('boom');
      },
    });
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...storeMigrations('sqlite'), '0099-broken': broken }) },
    });
    const { error, results } = await migrator.migrateToLatest();
    expect((error as Error).message).toBe('boom');
    expect(results?.find((r) => r.status === 'Error')?.migrationName).toBe('0099-broken');
    const tables = await schemaNames(db, 'table');
    expect(tables).toContain('jobs');
    expect(tables).not.toContain('half_done');
    await db.destroy();
  });

  it('0007 completes on a database where an earlier attempt stopped part-way', async () => {
    const { path, db } = freshDb();
    const migrator = new Migrator({ db, provider: { getMigrations: async () => storeMigrations('sqlite') } });
    expect((await migrator.migrateTo('0006-job-deps')).error).toBeUndefined();
    // What a failed run of 0007 left before migrations were atomic: its first index made, some dropped.
    await sql`create index jobs_cache_origin on jobs (cache_key, status) where cached_from is null`.execute(db);
    await sql`drop index jobs_cache_key`.execute(db);
    await sql`drop index jobs_cached_from`.execute(db);
    await db.destroy();

    const store = await openSqliteStore(path);
    open.push(store);
    const check = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqliteDatabase(path) }) });
    const indexes = await schemaNames(check, 'index');
    expect(indexes).toEqual(expect.arrayContaining(['jobs_cache_origin', 'jobs_cached_from']));
    for (const gone of ['jobs_cache_key', 'jobs_status', 'jobs_runner']) expect(indexes).not.toContain(gone);
    const { rows } = await sql<{
      sql: string;
    }>`select sql from sqlite_master where name = 'jobs_cached_from'`.execute(check);
    expect(rows[0]?.sql).toMatch(/where "?cached_from"? is not null/i);
    await check.destroy();
  });

  it('a database a newer dstack migrated is refused, naming it and the migrations, and is left as it was', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dstack-migrations-'));
    const path = join(dataDir, 'dstack.db');
    await (await openSqliteStore(path)).close();
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqliteDatabase(path) }) });
    await sql`insert into kysely_migration (name, timestamp) values ('0099-from-a-newer-dstack', 'x')`.execute(db);

    const opening = openStore(undefined, dataDir);
    await expect(opening).rejects.toThrow(ConflictError);
    await expect(opening).rejects.toThrow(
      `${path}: the database was last used by a newer dstack: it has migration 0099-from-a-newer-dstack, ` +
        'which this dstack does not have. Run the newer dstack on it, or, to go back to this one, restore the ' +
        'backup taken before the upgrade (docs/storage.md, "Backups and upgrades")',
    );
    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    expect(rows.map((r) => r.name)).toEqual(
      [...Object.keys(storeMigrations('sqlite')), '0099-from-a-newer-dstack'].sort(),
    );
    await db.destroy();
  });

  it("0010 adds the runners' session column, and its down removes it", async () => {
    const { db } = freshDb();
    const migrator = new Migrator({ db, provider: { getMigrations: async () => storeMigrations('sqlite') } });
    const columns = async () =>
      (await sql<{ name: string }>`pragma table_info(runners)`.execute(db)).rows.map((r) => r.name);
    expect((await migrator.migrateTo('0010-runner-session')).error).toBeUndefined();
    expect(await columns()).toContain('session');
    expect((await migrator.migrateTo('0009-project-runs')).error).toBeUndefined();
    expect(await columns()).not.toContain('session');
    await db.destroy();
  });

  it("0011 adds the runs' no_cache column (null for the runs stored before), and its down removes it", async () => {
    const { db } = freshDb();
    const migrator = new Migrator({ db, provider: { getMigrations: async () => storeMigrations('sqlite') } });
    const columns = async () =>
      (await sql<{ name: string }>`pragma table_info(runs)`.execute(db)).rows.map((r) => r.name);
    expect((await migrator.migrateTo('0011-run-no-cache')).error).toBeUndefined();
    expect(await columns()).toContain('no_cache');
    expect((await migrator.migrateTo('0010-runner-session')).error).toBeUndefined();
    expect(await columns()).not.toContain('no_cache');
    await db.destroy();
  });
});
