/**
 * 0007: fewer, narrower job indexes. Every job row is written to each index of `jobs`, and a
 * cached re-run writes a thousand rows at once, so indexes that no query needs cost every
 * submission. `jobs_status` and `jobs_runner` are prefixes of `jobs_status_order` and
 * `jobs_runner_status` (0006). The cache look-ups ask only for jobs that ran themselves
 * (`cached_from is null`): indexed by key and status among those alone, they no longer step
 * over one cached copy per earlier re-run of the same key, and cached copies add nothing to it.
 * `jobs_cached_from` (followers of a job) keeps only the jobs that have one: as a full index,
 * SQLite's planner took its `cached_from is null` entries for the cache look-ups instead.
 * Each step may find its work done (or an index missing): a SQLite database where an
 * earlier attempt stopped part-way (before migrations were atomic: index.ts) completes it.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const jobIndexesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('jobs_cache_origin')
      .ifNotExists()
      .on('jobs')
      .columns(['cache_key', 'status'])
      .where(sql.ref('cached_from'), 'is', null)
      .execute();
    for (const name of ['jobs_cache_key', 'jobs_status', 'jobs_runner', 'jobs_cached_from'])
      await db.schema.dropIndex(name).ifExists().execute();
    await db.schema
      .createIndex('jobs_cached_from')
      .on('jobs')
      .column('cached_from')
      .where(sql.ref('cached_from'), 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('jobs_cached_from').execute();
    await db.schema.createIndex('jobs_cached_from').on('jobs').column('cached_from').execute();
    await db.schema.createIndex('jobs_cache_key').on('jobs').column('cache_key').execute();
    await db.schema.createIndex('jobs_status').on('jobs').column('status').execute();
    await db.schema.createIndex('jobs_runner').on('jobs').column('runner').execute();
    await db.schema.dropIndex('jobs_cache_origin').execute();
  },
};
