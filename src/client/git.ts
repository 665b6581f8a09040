/** Asking the project's git repo about itself, for the CLI: an answer, or undefined when git says no. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectKey } from '../core/projects.js';
import type { RepoInfo } from '../core/records.js';
import { stripCredentials } from '../core/repos.js';

/** `git -C root ARGS` as text; undefined when git fails (not a repo, no such ref, no git). */
export function gitOutput(root: string, ...args: string[]): Promise<string | undefined> {
  return gitOutputWith(process.env, root, args);
}

/** The variables that point git at one repo whatever the folder: a repo nested in the project must be asked without them. */
const REPO_VARIABLES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR'];

/** `gitOutput` as bytes: paths (`-z`) as git has them, which need not be UTF-8. */
export function gitBytes(root: string, ...args: string[]): Promise<Buffer | undefined> {
  return gitBytesWith(process.env, root, args);
}

/** `gitBytes` for the repo whose `.git` is in `dir` itself, whatever GIT_DIR says. */
export function gitBytesOwn(dir: string, ...args: string[]): Promise<Buffer | undefined> {
  const env = { ...process.env };
  for (const name of REPO_VARIABLES) delete env[name];
  return gitBytesWith(env, dir, args);
}

async function gitOutputWith(env: NodeJS.ProcessEnv, root: string, args: string[]): Promise<string | undefined> {
  return (await gitBytesWith(env, root, args))?.toString('utf8');
}

function gitBytesWith(env: NodeJS.ProcessEnv, root: string, args: string[]): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const options = { env, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' as const };
    execFile('git', ['-C', root, ...args], options, (error, stdout) => resolve(error ? undefined : stdout));
  });
}

/**
 * Branch, commit and dirtiness from `git status --porcelain=v2 --branch` (its records end in
 * newlines, or in NULs with `-z`): `# branch.oid` (`(initial)` before the first commit),
 * `# branch.head` (`(detached)` off a branch), then a record per changed or untracked file.
 */
export function branchStatus(status: string): Pick<RepoInfo, 'branch' | 'commit' | 'dirty'> {
  const heads = new Map<string, string>();
  let dirty = false;
  for (const line of status.split(/[\n\0]/)) {
    if (line.startsWith('# ')) {
      const [key, value] = line.slice(2).split(' ', 2);
      if (key && value) heads.set(key, value);
    } else if (line !== '') dirty = true;
  }
  const branch = heads.get('branch.head');
  const commit = heads.get('branch.oid');
  return {
    ...(branch && branch !== '(detached)' ? { branch } : {}),
    ...(commit && commit !== '(initial)' ? { commit } : {}),
    dirty,
  };
}

/**
 * The untracked paths of `git status --porcelain=v2 -z` (`? path`, relative to the repo's top; a
 * folder whose files are all untracked is one path, ending in `/`) that lie under `prefix` (the
 * project's folder in the repo, `rev-parse --show-prefix`), relative to it: '' when the project's
 * folder is untracked whole.
 */
export function untrackedPaths(status: string, prefix = ''): string[] {
  const paths: string[] = [];
  const records = status.split('\0');
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record.startsWith('2 '))
      i++; // a rename's record is followed by the path it had
    else if (record.startsWith('? ')) {
      const path = record.slice(2);
      if (path.startsWith(prefix)) paths.push(path.slice(prefix.length));
      else if (path.endsWith('/') && prefix.startsWith(path)) paths.push(''); // the whole project is untracked
    }
  }
  return paths;
}

/** Whether git could see a repo here: a `.git` in the folder or above, or GIT_DIR set. */
export function mayBeGitRepo(root: string): boolean {
  if (process.env['GIT_DIR']) return true;
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** Where the project lies: its root, and from git (`remote get-url origin`, `rev-parse --show-prefix`) its remote and folder in it. */
export function repoPlace(
  root: string,
  remote: string | undefined,
  prefix: string | undefined,
): Pick<RepoInfo, 'root' | 'remote' | 'subdir'> {
  return {
    root,
    // Records are shown and kept: a token in an https URL must not ride along (dstack init --token carries it).
    ...(remote?.trim() ? { remote: stripCredentials(remote.trim()).remote } : {}),
    ...(prefix?.trim() ? { subdir: prefix.trim().replace(/\/+$/, '') } : {}),
  };
}

/**
 * Whether the repo ignores the project's folder itself (a scratch folder of a repo, a home whose
 * dotfiles repo ignores `*`): no part of that repo, the folder is a project as outside git.
 * `git check-ignore` exits 0 for a path it ignores; 1, or 128 outside a repo, otherwise.
 */
export async function folderIgnored(root: string): Promise<boolean> {
  return (await gitOutput(root, 'check-ignore', '-q', '--', '.')) !== undefined;
}

/** The key of the project at `root` (core/projects.ts), as the server takes it from the runs submitted there. */
export async function projectAt(root: string): Promise<string> {
  if (!mayBeGitRepo(root)) return projectKey({ root });
  const [remote, prefix, ignored] = await Promise.all([
    gitOutput(root, 'remote', 'get-url', 'origin'),
    gitOutput(root, 'rev-parse', '--show-prefix'),
    folderIgnored(root),
  ]);
  return projectKey(ignored ? { root } : repoPlace(root, remote, prefix));
}
