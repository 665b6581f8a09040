/**
 * Providers from another repository (`provider: {repo: URL, name: NAME}` or `NAME@branch`):
 * the repository is cloned once under $DSTACK_HOME/providers and fetched again on each plan,
 * so a provider's update reaches the next run; offline, the copy already there is used.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeChosenFolder } from '../../files/make-folder.js';
import { homeSetting } from '../../settings.js';

const exec = promisify(execFile);

/** `name@branch` into its parts. */
export function splitRef(name: string): { name: string; branch?: string } {
  const at = name.lastIndexOf('@');
  if (at <= 0 || at === name.length - 1) return { name };
  return { name: name.slice(0, at), branch: name.slice(at + 1) };
}

async function git(args: string[], cwd?: string): Promise<string> {
  try {
    // Never a prompt for credentials: a CLI planning a run must not hang on one.
    const { stdout } = await exec('git', args, {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      timeout: 120_000,
    });
    return stdout;
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    const last = stderr.split('\n').filter(Boolean).pop();
    throw new Error(last ?? (e as Error).message);
  }
}

/**
 * The repository at `url`, checked out at `branch` (its default branch when absent); the folder.
 * `warn` hears of a fetch that failed when an older copy could be used.
 */
export async function checkoutProviderRepo(
  url: string,
  branch: string | undefined,
  home: string,
  warn: (text: string) => void,
): Promise<string> {
  const dir = join(home, 'providers', createHash('sha256').update(url).digest('hex').slice(0, 16));
  if (!existsSync(join(dir, '.git'))) {
    await makeChosenFolder(join(home, 'providers'), homeSetting(home));
    const tmp = `${dir}.${process.pid}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    try {
      await git(['clone', '--quiet', '--no-checkout', url, tmp]);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw new Error(`cannot clone ${url}: ${(e as Error).message}`);
    }
    // Another plan may have cloned it meanwhile; either copy serves.
    await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true }));
  } else {
    try {
      await git(['fetch', '--quiet', '--prune', 'origin'], dir);
      await git(['remote', 'set-head', 'origin', '--auto'], dir);
    } catch (e) {
      warn(`cannot fetch ${url} (${(e as Error).message}); using the copy fetched before`);
    }
  }
  const ref = branch === undefined ? 'origin/HEAD' : `origin/${branch}`;
  if (branch !== undefined) await requireBranch(dir, url, branch);
  try {
    await git(['checkout', '--quiet', '--force', '--detach', ref], dir);
    await git(['clean', '-fdxq'], dir);
  } catch (e) {
    const what = branch === undefined ? 'its default branch' : `branch '${branch}'`;
    throw new Error(`cannot check out ${what} of ${url}: ${(e as Error).message}`);
  }
  return dir;
}

/** A branch the clone lacks, said so with those it has; git's own words were `--detach does not take a path argument`. */
async function requireBranch(dir: string, url: string, branch: string): Promise<void> {
  const found = await git(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^{commit}`], dir).then(
    () => true,
    () => false,
  );
  if (found) return;
  const listed = await git(['for-each-ref', '--format=%(refname:lstrip=3)', 'refs/remotes/origin'], dir).catch(
    () => '',
  );
  const branches = listed.split('\n').filter((b) => b !== '' && b !== 'HEAD');
  const shown = branches.slice(0, 10).join(', ') + (branches.length > 10 ? `, and ${branches.length - 10} more` : '');
  throw new Error(`${url} has no branch '${branch}'${branches.length > 0 ? ` (its branches: ${shown})` : ''}`);
}
