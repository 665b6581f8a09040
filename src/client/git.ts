/** Asking the project's git repo about itself, for the CLI: an answer, or undefined when git says no. */
import { execFile } from 'node:child_process';
import type { RepoInfo } from '../core/records.js';

/** `git -C root ARGS` as text; undefined when git fails (not a repo, no such ref, no git). */
export function gitOutput(root: string, ...args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', root, ...args], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    );
  });
}

/**
 * Branch, commit and dirtiness from `git status --porcelain=v2 --branch`: `# branch.oid`
 * (`(initial)` before the first commit), `# branch.head` (`(detached)` off a branch), then a
 * line per changed or untracked file.
 */
export function branchStatus(status: string): Pick<RepoInfo, 'branch' | 'commit' | 'dirty'> {
  const heads = new Map<string, string>();
  let dirty = false;
  for (const line of status.split('\n')) {
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
