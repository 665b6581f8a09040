/**
 * Running git for the runner's clones: arguments as an array (never a shell), credentials
 * only in the environment, and error messages scrubbed of every secret before anyone
 * (a job log, the server) sees them.
 */
import { execFile } from 'node:child_process';

/** What git runs with: its environment, and the secrets in it that must never be shown. */
export interface GitContext {
  env: NodeJS.ProcessEnv;
  secrets: readonly string[];
}

/** A clone can take a while on a big repo, but a hung network must not hold a job forever. */
const TIMEOUT_MS = 15 * 60_000;

/** Replace every secret in `text` with `[redacted]`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('[redacted]');
  return out;
}

/** The line of git's stderr that says what went wrong: its first `fatal:` or `error:`, else its last. */
function reason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1) ?? '';
  return said.replace(/^(fatal|error):\s*/, '');
}

/** A git command that failed: its message is the line of git's stderr that says why, scrubbed of secrets. */
export class GitError extends Error {}

/** Run `git [--git-dir=DIR] ARGS`; resolves with stdout as bytes, rejects with a GitError. */
export function git(args: readonly string[], ctx: GitContext, gitDir?: string): Promise<Buffer> {
  const full = gitDir === undefined ? args : [`--git-dir=${gitDir}`, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      full,
      { env: ctx.env, encoding: 'buffer', maxBuffer: 1 << 30, timeout: TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const detail = reason(stderr.toString('utf8'));
        const why = error.killed ? `timed out after ${TIMEOUT_MS / 60_000} minutes` : detail || error.message;
        reject(new GitError(scrub(`git ${args[0]} failed: ${why}`, ctx.secrets)));
      },
    );
  });
}
