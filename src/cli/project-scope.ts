/** Which project a listing (`status`, `tags list`) covers: the one the CLI stands in, or all. */
import { projectAt } from '../client/git.js';
import { findProjectRoot } from '../config/project-root.js';

/** The key of the project `cwd` lies in; undefined (every project) with `all` or outside any project. */
export async function projectScope(all: boolean | undefined, cwd = process.cwd()): Promise<string | undefined> {
  if (all) return undefined;
  const root = findProjectRoot(cwd);
  return root === undefined ? undefined : projectAt(root);
}
