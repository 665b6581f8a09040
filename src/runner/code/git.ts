/**
 * Running git for the runner's clones: arguments as an array (never a shell), credentials
 * only in the environment, and error messages scrubbed of every secret before anyone
 * (a job log, the server) sees them.
 */
import { spawn } from 'node:child_process';
import { signalGroup } from '../process-group.js';

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

/** After a stop's SIGTERM, how long git and the helpers it started get before SIGKILL. */
const KILL_AFTER_MS = 2000;

/** Output past this is a bug or a hostile repo, not a listing to hold in memory. */
const MAX_OUTPUT = 1 << 30;

/**
 * Run `git [--git-dir=DIR] ARGS`; resolves with stdout as bytes, rejects with a GitError, or
 * with `signal`'s reason once it aborts (a stop: git is ended, not waited for). git runs in a
 * process group of its own, so that the end reaches what it started too (ssh,
 * git-remote-https, index-pack): a clone of a big repo can take many minutes.
 */
export function git(args: readonly string[], ctx: GitContext, gitDir?: string, signal?: AbortSignal): Promise<Buffer> {
  const full = gitDir === undefined ? args : [`--git-dir=${gitDir}`, ...args];
  const failed = (why: string) => new GitError(scrub(`git ${args[0]} failed: ${why}`, ctx.secrets));
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const child = spawn('git', full, { env: ctx.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let ended: 'aborted' | 'timed out' | 'too much output' | undefined;
    let killer: NodeJS.Timeout | undefined;
    // From a timer or an abort's listener: an error thrown there would end the runner.
    const group = (sig: NodeJS.Signals) => {
      if (child.pid !== undefined) signalGroup(child.pid, sig);
    };
    const end = (why: NonNullable<typeof ended>) => {
      if (ended) return;
      ended = why;
      group('SIGTERM'); // git removes its lock files and partial clone at SIGTERM
      killer = setTimeout(() => group('SIGKILL'), KILL_AFTER_MS);
    };
    const timer = setTimeout(() => end('timed out'), TIMEOUT_MS);
    const onAbort = () => end('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      clearTimeout(killer);
      signal?.removeEventListener('abort', onAbort);
      if (ended) group('SIGKILL'); // what of the group outlived git
    };
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) end('too much output');
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (e) => {
      done();
      reject(failed(e.message));
    });
    child.once('close', (code, sig) => {
      done();
      if (ended === 'aborted') return reject(signal?.reason);
      if (code === 0 && !ended) return resolve(Buffer.concat(stdout));
      if (ended === 'timed out') return reject(failed(`timed out after ${TIMEOUT_MS / 60_000} minutes`));
      if (ended) return reject(failed(ended));
      const said = reason(Buffer.concat(stderr).toString('utf8'));
      reject(failed(said || (code === null ? `killed by signal ${sig}` : `exit code ${code}`)));
    });
  });
}
