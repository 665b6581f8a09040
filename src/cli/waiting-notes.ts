/**
 * While a followed run is quiet, say why a job that has not started waits: the server's
 * reason on a SUBMITTED job ("no runner has 2 GPUs", "waiting for the same job in …"), or on
 * one a Slurm cluster holds in its queue ("slurm 12: PENDING (Resources)", DOWNLOADING).
 * Without it, a follow of such a job printed nothing, forever. Each reason shows once per job; a run whose
 * jobs print is never asked about, and a quiet one less and less often.
 */
import pc from 'picocolors';
import type { Client } from '../client/client.js';
import type { JobStatus } from '../core/job-status.js';
import { printable } from './format.js';

/** Statuses of a job not started yet; only a reason the server gives says why (a transition clears it). */
const WAITING = new Set<JobStatus>(['SUBMITTED', 'DOWNLOADING']);

/** A follow quiet this long asks the server about its run's waiting jobs, ms. */
const QUIET_MS = 2_000;
/** Asked and still quiet, it asks again after twice as long each time, up to this: a job silent for hours costs a call a minute. */
const MAX_QUIET_MS = 60_000;

export interface WaitingNotes {
  /** Lines arrived: the follow is not quiet. */
  heard(): void;
  stop(): void;
}

/** `jobIds`: the jobs the follow shows (all of the run's when undefined). */
export function noteWaiting(client: Client, runName: string, jobIds?: ReadonlySet<string>): WaitingNotes {
  const shown = new Map<string, string>();
  let quietFor = QUIET_MS;
  let askAt = Date.now() + quietFor;
  let asking = false;
  const timer = setInterval(() => {
    if (asking || Date.now() < askAt) return;
    asking = true;
    quietFor = Math.min(2 * quietFor, MAX_QUIET_MS);
    askAt = Date.now() + quietFor;
    client
      .getRun(runName)
      .then((run) => {
        for (const job of run.jobs) {
          if (jobIds && !jobIds.has(job.id)) continue;
          if (!WAITING.has(job.status) || !job.reason || shown.get(job.id) === job.reason) continue;
          shown.set(job.id, job.reason);
          process.stderr.write(pc.dim(`[dstack] ${job.ref} waits: ${printable(job.reason)}\n`));
        }
      })
      .catch(() => {}) // the follow itself reports a server that went away
      .finally(() => (asking = false));
  }, QUIET_MS / 2);
  timer.unref();
  return {
    heard: () => {
      quietFor = QUIET_MS;
      askAt = Date.now() + quietFor;
    },
    stop: () => clearInterval(timer),
  };
}
