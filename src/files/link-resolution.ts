/**
 * Where a symlink lands, found as the kernel finds it: name by name, each link met on the way
 * followed from its own folder before the next name. Joining a link's folder and its target is
 * not enough: with `d/y -> ../..`, the `..` after `y` in `d/x -> y/../..` leaves the folder that
 * `y` leads to, not `d`, so a chain of links that each end inside may lead out together.
 * Pure: paths are relative to a root, `/` between names ('' for the root itself), and whether a
 * path is a link is asked of a callback (a manifest's links, what is on disk).
 */

/** Links followed in one resolution before it counts as a loop (Linux gives ELOOP after 40). */
export const MAX_LINKS_FOLLOWED = 40;

/** The target of the link at `path` (relative to the root); undefined when nothing there is a link. */
export type LinkAt = (path: string) => string | undefined;

/**
 * Where following `target` from `folder` lands, relative to the root; undefined when it leads out
 * of it: a `..` above the root, an absolute target (of any link on the way too), or more than
 * MAX_LINKS_FOLLOWED links (a loop). Links on `folder` itself are followed as well.
 */
export function landing(folder: string, target: string, linkAt: LinkAt): string | undefined {
  const budget = { left: MAX_LINKS_FOLLOWED };
  const start = follow([], folder, linkAt, budget);
  return start && follow(start, target, linkAt, budget)?.join('/');
}

/** Where the link at `path` (relative to the root) to `target` lands: see landing. */
export function linkLanding(path: string, target: string, linkAt: LinkAt): string | undefined {
  return landing(path.slice(0, Math.max(path.lastIndexOf('/'), 0)), target, linkAt);
}

/** Whether `path` is `folder` or below it (both relative to the root; '' is the root). */
export function isWithin(folder: string, path: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}

/** `target`'s names applied to the real folder `at` (its names), each link met followed; undefined once out. */
function follow(at: readonly string[], target: string, linkAt: LinkAt, budget: { left: number }): string[] | undefined {
  if (target.startsWith('/')) return undefined;
  let here = [...at];
  for (const name of target.split('/')) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      if (here.length === 0) return undefined;
      here.pop();
      continue;
    }
    here.push(name);
    const link = linkAt(here.join('/'));
    if (link === undefined) continue;
    if (--budget.left < 0) return undefined;
    const landed = follow(here.slice(0, -1), link, linkAt, budget);
    if (landed === undefined) return undefined;
    here = landed;
  }
  return here;
}

/** A link to be kept with others, and the folder it must land in (relative to the root). */
export interface KeptLink {
  path: string;
  link: string;
  boundary: string;
}

/**
 * The links of `links` that lead out of their boundary, each followed through the others kept
 * (as they will be restored together), in their order. Leaving one out may change where others
 * go through its path (a plain folder then): it is asked again until none more leads out.
 */
export function linksLeadingOut<T extends KeptLink>(links: readonly T[]): T[] {
  let kept = links;
  const out = new Set<T>();
  for (;;) {
    const targets = new Map(kept.map((l) => [l.path, l.link]));
    const linkAt: LinkAt = (path) => targets.get(path);
    const leading = kept.filter((l) => {
      const at = linkLanding(l.path, l.link, linkAt);
      return at === undefined || !isWithin(l.boundary, at);
    });
    if (leading.length === 0) return links.filter((l) => out.has(l));
    for (const l of leading) out.add(l);
    kept = kept.filter((l) => !out.has(l));
  }
}
