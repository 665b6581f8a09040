/**
 * The first schema. Migrations take `Kysely<unknown>`: they must not depend on the
 * current `Database` type, which moves on while old migrations stay as they were.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../schema.js';

/** Tables for tokens, runs, jobs, job events, artifacts and runners. */
export function initialMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tokens')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('admin', 'boolean', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('runs')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('workflow', 'text', (c) => c.notNull())
        .addColumn('overrides', 'text', (c) => c.notNull())
        // NULLs never collide in a unique column (SQLite and PostgreSQL agree), so untagged runs are fine.
        .addColumn('tag', 'text', (c) => c.unique())
        .addColumn('tag_on_done', 'text')
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('code_digest', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        .addColumn('user', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('runs_submitted_at').on('runs').columns(['submitted_at', 'name']).execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('run_name', 'text', (c) => c.notNull().references('runs.name').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('workflow', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('cache_key', 'text', (c) => c.notNull())
        .addColumn('depends_on', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('runner', 'text')
        .addColumn('gpus', 'text')
        .addColumn('cached_from', 'text')
        .addColumn('stop_request', 'text')
        .addColumn('resumed', 'boolean')
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        // Also the index behind "jobs of these runs, in planned order".
        .addUniqueConstraint('jobs_run_seq', ['run_name', 'seq'])
        .execute();
      await db.schema.createIndex('jobs_cache_key').on('jobs').column('cache_key').execute();
      await db.schema.createIndex('jobs_status').on('jobs').column('status').execute();
      await db.schema.createIndex('jobs_runner').on('jobs').column('runner').execute();

      await db.schema
        .createTable('job_events')
        // PostgreSQL has no AUTOINCREMENT keyword; an identity column is its equivalent.
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('from_status', 'text')
        .addColumn('to_status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('job_events_job_id').on('job_events').column('job_id').execute();

      await db.schema
        .createTable('artifacts')
        .addColumn('job_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
        .addColumn('manifest', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('runners')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('total', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('registered_at', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['runners', 'artifacts', 'job_events', 'jobs', 'runs', 'tokens']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
