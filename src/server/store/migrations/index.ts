/**
 * The store's migrations, listed in code (not read from a folder) so they run the same
 * from src/ under tsx and from the compiled dist/.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { ConflictError } from '../../../core/errors.js';
import type { Database, SqlDialect } from '../schema.js';
import { initialMigration } from './0001-initial.js';
import { stopGraceMigration } from './0002-stop-grace.js';
import { reposMigration } from './0005-repos.js';
import { jobDepsMigration } from './0006-job-deps.js';
import { jobIndexesMigration } from './0007-job-indexes.js';
import { userTagsMigration } from './0008-user-tags.js';
import { projectRunsMigration } from './0009-project-runs.js';
import { runnerSessionMigration } from './0010-runner-session.js';
import { logArchivesMigration } from './0012-log-archives.js';
import { runNoCacheMigration } from './0011-run-no-cache.js';
import { commandsStartedMigration } from './0013-commands-started.js';
import { slurmJobsMigration } from './0014-slurm-jobs.js';
import { cachedFromAnotherUserMigration } from './0015-cached-from-another-user.js';
import { historyIndexesMigration } from './0016-history-indexes.js';

/** Every migration by name; kysely applies them in name order, so names start with a sequence number. */
export function storeMigrations(dialect: SqlDialect): Record<string, Migration> {
  const all: Record<string, Migration> = {
    '0001-initial': initialMigration(dialect),
    '0002-stop-grace': stopGraceMigration,
    '0005-repos': reposMigration,
    '0006-job-deps': jobDepsMigration,
    '0007-job-indexes': jobIndexesMigration,
    '0008-user-tags': userTagsMigration,
    '0009-project-runs': projectRunsMigration,
    '0010-runner-session': runnerSessionMigration,
    '0012-log-archives': logArchivesMigration,
    '0011-run-no-cache': runNoCacheMigration,
    '0013-commands-started': commandsStartedMigration,
    '0014-slurm-jobs': slurmJobsMigration,
    '0015-cached-from-another-user': cachedFromAnotherUserMigration,
    '0016-history-indexes': historyIndexesMigration,
  };
  return Object.fromEntries(Object.entries(all).map(([name, m]) => [name, atomic(m)]));
}

/**
 * A migration that applies whole or not at all. kysely runs PostgreSQL's migrations in a
 * transaction but not SQLite's (its adapter says SQLite has no transactional DDL; it has):
 * one that failed part-way left its first statements applied, and every later start failed
 * again on them ("index … already exists"), however the cause was fixed. A savepoint is a
 * transaction of its own on SQLite and nests inside kysely's on PostgreSQL.
 */
export function atomic(migration: Migration): Migration {
  const wrap =
    (step: (db: Kysely<unknown>) => Promise<void>) =>
    async (db: Kysely<unknown>): Promise<void> => {
      await sql`savepoint dstack_migration`.execute(db);
      try {
        await step(db);
      } catch (e) {
        await sql`rollback to savepoint dstack_migration`.execute(db);
        await sql`release savepoint dstack_migration`.execute(db);
        throw e;
      }
      await sql`release savepoint dstack_migration`.execute(db);
    };
  return { up: wrap(migration.up), ...(migration.down ? { down: wrap(migration.down) } : {}) };
}

class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: SqlDialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return storeMigrations(this.dialect);
  }
}

/**
 * A database that a newer dstack has migrated: it holds migrations this code does not have. kysely
 * calls that "corrupted migrations", which was reported as a bug in dstack (`dstack server` of an
 * older version after an upgrade, a downgrade); the database is fine, only too new.
 */
export class NewerDatabaseError extends ConflictError {
  constructor(readonly unknown: readonly string[]) {
    super(
      `the database was last used by a newer dstack: it has migration${unknown.length > 1 ? 's' : ''} ` +
        `${unknown.join(', ')}, which this dstack does not have. Run the newer dstack on it, or, to go ` +
        `back to this one, restore the backup taken before the upgrade (docs/storage.md, "Backups and upgrades")`,
    );
  }
}

/** Names of the migrations applied to `db`; none on a database not migrated yet. */
async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    return rows.map((r) => r.name);
  } catch {
    return []; // no such table yet: a new database (any other failure, the migrator meets again)
  }
}

/** Apply every pending migration; a no-op when the schema is current. Throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>, dialect: SqlDialect): Promise<void> {
  const known = storeMigrations(dialect);
  const unknown = (await appliedMigrations(db)).filter((name) => !(name in known)).sort();
  if (unknown.length > 0) throw new NewerDatabaseError(unknown);
  // Unordered: migrations written in parallel branches may land with lower numbers than ones already applied.
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(dialect), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  const message = error instanceof Error ? error.message : String(error);
  throw new Error(`migrating the dstack database failed${failed ? ` at ${failed}` : ''}: ${message}`, {
    cause: error,
  });
}
