/**
 * Which project a run belongs to. `dstack status` and tags work within the project the CLI
 * stands in, as dstack's runs and tags always were per repo: two projects of one user may
 * both have a `prepare` workflow and a `data-v1` tag.
 */
import { posix } from 'node:path';
import type { RepoInfo } from './records.js';

/**
 * The project's key: its git remote as host and path (every URL form of one remote gives the
 * same key) and, after a `#`, its folder inside the repo; or, without a remote, its root
 * folder. Clones of one remote are one project; a folder that is no clone is known by where
 * it lies. The `#` keeps a repo's folder apart from a repo of that path (a GitLab subgroup).
 */
export function projectKey(repo: Pick<RepoInfo, 'root' | 'remote' | 'subdir'>): string {
  if (!repo.remote) return repo.root;
  const remote = remotePath(repo.remote, repoTop(repo.root, repo.subdir));
  return repo.subdir ? `${remote}#${repo.subdir}` : remote;
}

/**
 * `https://github.com/Org/Repo.git`, `git@github.com:org/repo.git` and
 * `ssh://git@github.com:22/org/repo` all give `github.com/org/repo`: hosts and paths are
 * compared without case, as GitHub, GitLab and Bitbucket do. A remote on this machine is its
 * absolute path (a relative one taken from `top`, the repo's folder), case kept.
 */
export function remotePath(remote: string, top = '/'): string {
  let rest = remote.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    rest = rest.slice(scheme[0].length);
    if (scheme[1]!.toLowerCase() === 'file') return trimRepo(posix.resolve(top, rest));
  } else {
    // scp-like `user@host:path`; a local path (`/srv/repo.git`, `../repo`) has no colon before its first slash.
    const scp = /^([^/:]+):(?!\/\/)(.*)$/.exec(rest);
    if (!scp) return trimRepo(posix.resolve(top, rest));
    rest = `${scp[1]}/${scp[2]}`;
  }
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  const host = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '');
  return trimRepo(`${host}/${path.replace(/^\/+/, '')}`).toLowerCase();
}

/**
 * `tag` is taken in `project` (by `run`): what to run to free it, from anywhere. Said where a
 * tag collides, which may be in another project than the CLI's (`tags add` of its run).
 */
export function tagTaken(tag: string, project: string, run: string): string {
  return `tag '${tag}' already exists in project ${project} (run ${run}); delete it first: dstack tags delete ${tag} --project ${shellWord(project)}`;
}

/**
 * `tags add TAG RUN` for a run that has another tag: a run has one tag, and taking it away in
 * passing would leave every `depends-on: WORKFLOW:OLD` failing with nobody told. Renaming is
 * two commands, each saying what it does.
 */
export function tagHeld(tag: string, project: string, run: string, held: string): string {
  return (
    `run ${run} has the tag '${held}' already, and a run has one tag; to rename it, delete the old one first ` +
    `(a depends-on ':${held}' then finds no run): dstack tags delete ${held} --project ${shellWord(project)} && ` +
    `dstack tags add ${tag} ${run}`
  );
}

/**
 * `tag` is to go to `run`, unfinished, once it is DONE (`dstack run --tag`): no other run may take
 * it meanwhile, unless its user lets the promise go (`tags delete`; the run then ends untagged).
 */
export function tagPromised(tag: string, project: string, run: string): string {
  return (
    `tag '${tag}' is promised to run ${run} in project ${project}, which has not finished (dstack run --tag ${tag}): ` +
    `choose another tag, wait for that run, or let that run end untagged: dstack tags delete ${tag} --project ${shellWord(project)}`
  );
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./#-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Where the submitting user has a tag that the project they submit in lacks: a run of another project of theirs. */
export interface TagElsewhere {
  project: string;
  run: string;
}

/**
 * What to add where a tag is missing from a project but the same user has it in others (a
 * remote added since: the project's key changed, by design): where it is, and why it is not
 * here. Undefined where they have it nowhere else.
 */
export function tagElsewhereHint(tag: string, elsewhere: readonly TagElsewhere[]): string | undefined {
  if (elsewhere.length === 0) return undefined;
  const where = elsewhere.map((e) => `${e.project} (run ${e.run})`).join(', ');
  return (
    `you have it in project${elsewhere.length > 1 ? 's' : ''} ${where}: a tag is of its run's project, which is ` +
    `its git remote, or its folder without one (adding or changing a remote starts a new project); ` +
    `tag a run of this one (dstack tags add ${tag} RUN), or see 'dstack tags list --all'`
  );
}

/** The repo's own folder: the project's root without its folder inside the repo. */
function repoTop(root: string, subdir: string | undefined): string {
  if (!subdir) return root;
  const parts = posix.normalize(root).split('/');
  return parts.slice(0, Math.max(1, parts.length - subdir.split('/').length)).join('/') || '/';
}

function trimRepo(path: string): string {
  return path.replace(/\/+$/, '').replace(/\.git$/, '');
}
