/** Which workflows have runs, and in which project: what the dashboard's filters offer. */
import type { Kysely } from 'kysely';
import type { RunWorkflow } from '../../core/api.js';
import type { Database } from './schema.js';

/** Each (project, workflow) that `user`'s runs (anyone's, absent) have, once, sorted. */
export async function selectRunWorkflows(db: Kysely<Database>, user: string | undefined): Promise<RunWorkflow[]> {
  let q = db.selectFrom('runs').select(['project', 'workflow']).distinct();
  if (user !== undefined) q = q.where('user', '=', user);
  // Sorted here, not by ORDER BY: PostgreSQL's collation would order them otherwise than SQLite.
  const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return (await q.execute()).sort((a, b) => byCodePoint(a.project, b.project) || byCodePoint(a.workflow, b.workflow));
}
