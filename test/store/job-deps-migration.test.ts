import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { storeMigrations } from '../../src/server/store/migrations/index.js';
import { openSqliteDatabase, openSqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { jobRowBefore0013, makeJob, makeRun, rowBefore0009, type DatabaseBefore0009 } from './fixtures.js';

describe('migration 0006-job-deps', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it('gives jobs stored before it their dependency rows, so they still become ready', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dstack-deps-')), 'state.db');
    const db = new Kysely<DatabaseBefore0009>({ dialect: new SqliteDialect({ database: openSqliteDatabase(path) }) });
    const migrations = storeMigrations('sqlite');
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo('0005-repos')).error).toBeUndefined();
    const run = makeRun('old');
    const jobs = [
      makeJob(run, 'a', { status: 'DONE', finishedAt: 2 }),
      makeJob(run, 'b', { dependsOn: ['old-a'] }),
      makeJob(run, 'c', { dependsOn: ['old-a', 'old-b'] }),
    ];
    await db.insertInto('runs').values(rowBefore0009(run)).execute();
    for (const [seq, job] of jobs.entries()) await db.insertInto('jobs').values(jobRowBefore0013(job, seq)).execute();
    await db.destroy();

    const store = await openSqliteStore(path);
    open.push(store);
    expect((await store.readyJobs(10, 0)).map((j) => j.id)).toEqual(['old-b']);
    expect((await store.dependentsIn('old-b', 'SUBMITTED')).map((j) => j.id)).toEqual(['old-c']);
    expect(await store.jobsOfRuns(['old'])).toStrictEqual(jobs);
  });
});
