/** The jobs of many runs at once (status lists, a prune of the whole store). */
import type { Kysely, Selectable } from 'kysely';
import type { JobRecord } from '../../core/records.js';
import { batches } from './batches.js';
import { jobFromRow } from './mapping.js';
import type { Database, JobsTable } from './schema.js';

/** Run names per `in (…)` list. */
const IN_BATCH = 500;

/**
 * The jobs of these runs, by run name then planned order. In batches: a prune reads the jobs of
 * every run stored, and one `in (…)` of them all failed past SQLite's 32,766 bound parameters
 * ("too many SQL variables") on a server with that many runs, the one most in need of a prune.
 */
export async function jobsOfRuns(db: Kysely<Database>, runNames: readonly string[]): Promise<JobRecord[]> {
  const rows: Selectable<JobsTable>[] = [];
  for (const batch of batches([...new Set(runNames)], IN_BATCH)) {
    rows.push(...(await db.selectFrom('jobs').selectAll().where('run_name', 'in', batch).execute()));
  }
  // One order whatever the batches and the database's collation.
  rows.sort((a, b) => (a.run_name < b.run_name ? -1 : a.run_name > b.run_name ? 1 : a.seq - b.seq));
  return rows.map(jobFromRow);
}
