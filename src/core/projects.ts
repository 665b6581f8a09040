/**
 * Which project a run belongs to. `dstack status` and tags work within the project the CLI
 * stands in, as dstack's runs and tags always were per repo: two projects of one user may
 * both have a `prepare` workflow and a `data-v1` tag.
 */
import type { RepoInfo } from './records.js';

/**
 * The project's key: its git remote as host and path (every URL form of one remote gives the
 * same key) plus its folder inside the repo, or, without a remote, its root folder. Clones of
 * one remote are one project; a folder that is no clone is known by where it lies.
 */
export function projectKey(repo: Pick<RepoInfo, 'root' | 'remote' | 'subdir'>): string {
  if (!repo.remote) return repo.root;
  const remote = remotePath(repo.remote);
  return repo.subdir ? `${remote}/${repo.subdir}` : remote;
}

/**
 * `https://github.com/org/repo.git`, `git@github.com:org/repo.git` and
 * `ssh://git@github.com:22/org/repo` all give `github.com/org/repo`; a path stays a path.
 */
export function remotePath(remote: string): string {
  let rest = remote.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    rest = rest.slice(scheme[0].length);
    if (scheme[1]!.toLowerCase() === 'file') return trimRepo(rest);
  } else {
    // scp-like `user@host:path`; a local path (`/srv/repo.git`, `../repo`) has no colon before its first slash.
    const scp = /^([^/:]+):(?!\/\/)(.*)$/.exec(rest);
    if (!scp) return trimRepo(rest);
    rest = `${scp[1]}/${scp[2]}`;
  }
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  const host = authority
    .slice(authority.lastIndexOf('@') + 1)
    .replace(/:\d*$/, '')
    .toLowerCase();
  return trimRepo(`${host}/${path.replace(/^\/+/, '')}`);
}

function trimRepo(path: string): string {
  return path.replace(/\/+$/, '').replace(/\.git$/, '');
}
