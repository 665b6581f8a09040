/** The jobs of many runs at once (status lists), and the facts of every job (a prune of the whole store). */
import type { Kysely, Selectable } from 'kysely';
import type { JobRecord } from '../../core/records.js';
import { batches, IN_BATCH } from './batches.js';
import { jobFromRow } from './mapping.js';
import type { Database, JobsTable } from './schema.js';
import type { JobFacts, JobNeed } from './store.js';

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

const FACTS = [
  'id',
  'run_name',
  'status',
  'cached_from',
  'depends_on',
  'resumed',
  'commands_started',
  'stop_request',
] as const;

/**
 * Every job's facts (or those of the jobs of `runNames`). A prune read every job whole, each spec
 * parsed: on a server of 99,000 runs, 6 to 8 s of the submissions' lock and hundreds of megabytes,
 * for fields it never looks at.
 */
export async function allJobFacts(db: Kysely<Database>, runNames?: readonly string[]): Promise<JobFacts[]> {
  let rows: Pick<Selectable<JobsTable>, (typeof FACTS)[number] | 'seq'>[];
  if (runNames === undefined) {
    rows = await db.selectFrom('jobs').select(FACTS).select('seq').orderBy('run_name').orderBy('seq').execute();
  } else {
    rows = [];
    for (const batch of batches([...new Set(runNames)], IN_BATCH))
      rows.push(...(await db.selectFrom('jobs').select(FACTS).select('seq').where('run_name', 'in', batch).execute()));
    rows.sort((a, b) => (a.run_name < b.run_name ? -1 : a.run_name > b.run_name ? 1 : a.seq - b.seq));
  }
  return rows.map((r) => {
    const facts: JobFacts = {
      id: r.id,
      runName: r.run_name,
      status: r.status,
      dependsOn: r.depends_on === '[]' ? [] : (JSON.parse(r.depends_on) as string[]),
    };
    if (r.cached_from !== null) facts.cachedFrom = r.cached_from;
    if (r.resumed !== null) facts.resumed = Boolean(r.resumed);
    if (r.commands_started !== null) facts.commandsStarted = Boolean(r.commands_started);
    if (r.stop_request !== null) facts.stopRequest = r.stop_request;
    return facts;
  });
}

/**
 * The jobs that reuse or join one of `jobIds` (`cached_from`), or wait on one (`job_deps`), by
 * their indexes, each with the job it needs: what a prune must look for again before it deletes
 * those jobs' runs.
 */
export async function jobsNeeding(db: Kysely<Database>, jobIds: readonly string[]): Promise<JobNeed[]> {
  const found: JobNeed[] = [];
  for (const batch of batches([...new Set(jobIds)], IN_BATCH)) {
    const reusing = await db
      .selectFrom('jobs')
      .select(['id', 'run_name', 'cached_from'])
      .where('cached_from', 'in', batch)
      .execute();
    for (const r of reusing) found.push({ id: r.id, runName: r.run_name, needs: r.cached_from! });
    const waiting = await db
      .selectFrom('job_deps')
      .innerJoin('jobs', 'jobs.id', 'job_deps.job_id')
      .select(['jobs.id', 'jobs.run_name', 'job_deps.dep_id'])
      .where('job_deps.dep_id', 'in', batch)
      .execute();
    for (const r of waiting) found.push({ id: r.id, runName: r.run_name, needs: r.dep_id });
  }
  return found;
}
