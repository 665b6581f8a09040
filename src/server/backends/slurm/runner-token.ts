/**
 * The Slurm runner's token, kept in a 0600 file in the server's data dir (never in the
 * database: that holds only tokens' hashes), so that the batch jobs a server submitted can
 * still report to it after a restart. Each batch job gets a copy in its own 0600 file, which
 * the one-shot runner deletes once read.
 *
 * A server started on a new data folder with the same database has no file: it issues a
 * new token for its submissions and keeps the runner's other tokens valid, as the batch jobs
 * it goes on tracking hold them, until none of those jobs is tracked (`RetiredTokens`).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashToken, issueToken, replaceToken } from '../../auth.js';
import type { Store } from '../../store/store.js';
import type { TrackedJob, TrackedJobs } from './tracked-jobs.js';
import { makeFolder } from '../../../files/make-folder.js';

export interface RunnerToken {
  /** The token batch jobs submitted from now on get. */
  token: string;
  /** Hashes of the runner's other tokens, which batch jobs submitted before may hold. */
  others: string[];
}

export async function ensureRunnerToken(store: Store, name: string, file: string): Promise<RunnerToken> {
  let token = (await readFile(file, 'utf8').catch(() => '')).trim();
  const record = token ? await store.findToken(hashToken(token)) : undefined;
  if (record?.kind !== 'runner' || record.name !== name) {
    // Lost (a new data folder), or revoked (`dstack runners delete`): a new one, beside any others.
    token = await issueToken(store, 'runner', name, false);
    await keepRunnerToken(file, token);
  }
  const hash = hashToken(token);
  const others = (await store.listTokens('runner')).filter((t) => t.name === name && t.hash !== hash);
  return { token, others: others.map((t) => t.hash) };
}

/**
 * Tokens the runner had before this start, valid until the batch jobs that may hold one
 * have ended: those tracked at the start (every later one got this start's token).
 */
export class RetiredTokens {
  /** The jobs tracked at the start, as `jobId/slurmId`. */
  private readonly holders: Set<string>;

  constructor(
    private readonly store: Store,
    private hashes: string[],
    private readonly tracked: TrackedJobs,
  ) {
    this.holders = new Set(tracked.all().map(submissionKey));
  }

  /** Revoke the retired tokens once no job tracked at the start is tracked; how many it revoked. */
  async settle(): Promise<number> {
    if (this.hashes.length === 0) return 0;
    const now = new Set(this.tracked.all().map(submissionKey));
    for (const h of this.holders) if (!now.has(h)) this.holders.delete(h);
    if (this.holders.size > 0) return 0;
    let revoked = 0;
    for (const hash of this.hashes) if (await this.store.deleteToken(hash)) revoked++;
    this.hashes = [];
    return revoked;
  }
}

const submissionKey = (t: TrackedJob) => `${t.jobId}/${t.slurmId}`;

/** A new token in place of the runner's (`dstack runners token`): the old one is refused from now on. */
export async function replaceRunnerToken(store: Store, name: string): Promise<string> {
  return (await replaceToken(store, 'runner', name)) ?? (await issueToken(store, 'runner', name, false));
}

/** Write the token to `file` (0600) whole: a crash mid-write must not leave half a token. */
export async function keepRunnerToken(file: string, token: string): Promise<void> {
  await makeFolder(dirname(file), 0o700);
  const temp = `${file}.new`;
  await writeFile(temp, token + '\n', { mode: 0o600 });
  await rename(temp, file);
}
