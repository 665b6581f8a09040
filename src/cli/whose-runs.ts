/**
 * Whether a listing's runs, all of one user's, are another user's than the caller's: an admin
 * looking at one other user's runs (or at one such run by name) saw no USER column, since a
 * listing shows it only for more than one user. The API has no "who am I": the caller's own
 * latest run (`mine`) names them, and only a listing of one user's runs asks for it.
 */
import type { Client } from '../client/client.js';

export async function anotherUsersOnly(
  client: Pick<Client, 'listRuns'>,
  runs: readonly { user: string }[],
): Promise<boolean> {
  const users = new Set(runs.map((r) => r.user));
  if (users.size !== 1) return false;
  const [own] = await client.listRuns({ last: 1, mine: true });
  // No run of their own: the listed ones are someone else's.
  return own?.user !== [...users][0];
}
