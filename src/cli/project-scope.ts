/** Which project a listing (`status`, `tags list`) covers: the one the CLI stands in, or all. */
import pc from 'picocolors';
import { projectAt } from '../client/git.js';
import { findProjectRoot, misnamedProjectFile } from '../config/project-root.js';
import { printable } from '../core/printable.js';

/** The key of the project `cwd` lies in; undefined (every project) with `all` or outside any project. */
export async function projectScope(all: boolean | undefined, cwd = process.cwd()): Promise<string | undefined> {
  return (await projectPlace(all, cwd))?.key;
}

/** The project `cwd` lies in: its key and its root folder; undefined with `all` or outside any project. */
export async function projectPlace(
  all: boolean | undefined,
  cwd = process.cwd(),
): Promise<{ key: string; root: string } | undefined> {
  if (all) return undefined;
  const root = findProjectRoot(cwd);
  return root === undefined ? undefined : { key: await projectAt(root), root };
}

/**
 * `projectPlace` for a listing of `what` (`dstack status`, `dstack tags list`), warning where a
 * `.dstack/workflows.yml` (no project file) is nearer than the project found: the listing, of
 * every project or of one above, was silently not of the project the user stood in.
 */
export async function listingPlace(
  all: boolean | undefined,
  what: 'runs' | 'tags',
  cwd = process.cwd(),
): Promise<{ key: string; root: string } | undefined> {
  const place = await projectPlace(all, cwd);
  const misnamed = all ? undefined : misnamedProjectFile(cwd, place?.root);
  if (misnamed) {
    const listed = place ? `the ${what} of project ${printable(place.key)}` : `every project's ${what}`;
    process.stderr.write(`${pc.yellow('warning:')} ${printable(misnamed)}; listed here: ${listed}\n`);
  }
  return place;
}

/**
 * The key this project had before it had a git remote, its root folder, where the key is now
 * its remote (a remote added since): runs submitted then are under it (core/projects.ts).
 */
export function keyBeforeRemote(place: { key: string; root: string } | undefined): string | undefined {
  return place && place.key !== place.root ? place.root : undefined;
}

/** Said under an empty listing whose earlier runs (`what`: runs, tags) the caller has under the folder's key. */
export function beforeRemoteHint(what: 'runs' | 'tags', previous: string, listAll: string): string {
  return (
    `Your ${what} of this folder from before it had a git remote are in project ${printable(previous)}: ` +
    `a project is its git remote, or its folder without one. See them with: ${listAll}`
  );
}
