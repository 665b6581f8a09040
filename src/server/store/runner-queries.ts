/** The runners table: one row a runner, with its capacity, status and heartbeat. */
import type { Kysely } from 'kysely';
import { NotFoundError } from '../../core/errors.js';
import type { RunnerRecord } from '../../core/records.js';
import type { Capacity } from '../../core/resources.js';
import { runnerFromRow, runnerToRow } from './mapping.js';
import type { Database } from './schema.js';

export async function upsertRunner(db: Kysely<Database>, runner: RunnerRecord): Promise<void> {
  const row = runnerToRow(runner);
  // The record as given replaces the stored one, registeredAt included: the caller decides what it keeps.
  const { host, total, status, updated_at, registered_at, session } = row;
  await db
    .insertInto('runners')
    .values(row)
    .onConflict((oc) => oc.column('name').doUpdateSet({ host, total, status, updated_at, registered_at, session }))
    .execute();
}

export async function getRunner(db: Kysely<Database>, name: string): Promise<RunnerRecord | undefined> {
  const row = await db.selectFrom('runners').selectAll().where('name', '=', name).executeTakeFirst();
  return row && runnerFromRow(row);
}

export async function listRunners(db: Kysely<Database>): Promise<RunnerRecord[]> {
  const rows = await db.selectFrom('runners').selectAll().orderBy('name').execute();
  return rows.map(runnerFromRow);
}

/** Record a heartbeat; with `session`, only from that session of the runner ('REPLACED' when another holds it). */
export async function heartbeat(
  db: Kysely<Database>,
  name: string,
  at: number,
  session?: string | null,
): Promise<RunnerRecord['status'] | 'REPLACED'> {
  let update = db.updateTable('runners').set({ updated_at: at }).where('name', '=', name);
  if (session !== undefined) update = update.where('session', session === null ? 'is' : '=', session);
  const row = await update.returning('status').executeTakeFirst();
  if (row !== undefined) return row.status;
  // Only a refusal reads the runner, to tell another session from none registered.
  if (session !== undefined && (await getRunner(db, name))) return 'REPLACED';
  throw new NotFoundError(`runner ${name} is not registered`);
}

export async function setRunnerStatus(db: Kysely<Database>, name: string, status: RunnerRecord['status']) {
  const result = await db.updateTable('runners').set({ status }).where('name', '=', name).executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new NotFoundError(`runner ${name} is not registered`);
}

export async function setRunnerTotal(db: Kysely<Database>, name: string, total: Capacity): Promise<void> {
  await db
    .updateTable('runners')
    .set({ total: JSON.stringify(total) })
    .where('name', '=', name)
    .execute();
}

export async function deleteRunner(db: Kysely<Database>, name: string): Promise<boolean> {
  const result = await db.deleteFrom('runners').where('name', '=', name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
