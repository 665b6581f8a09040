/**
 * While a followed run is quiet, say why a job that has not started waits (core/waiting-reason.ts,
 * as `dstack status` says it): the server's reason ("no runner has 2 GPUs", "waiting for the same
 * job in …", a Slurm queue's "slurm 12: PENDING (Resources)"), or that it waits for a free runner,
 * or for dependencies the follow does not show. Without it, a follow of such a job printed
 * nothing, forever. Each reason shows once per job; a run whose jobs print is never asked about,
 * and a quiet one less and less often.
 */
import pc from 'picocolors';
import type { Client } from '../client/client.js';
import type { JobRecord } from '../core/records.js';
import { waitingReason } from '../core/waiting-reason.js';
import { printable } from './format.js';

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
  /** Reasons the CLI worked out, seen at the last ask: said if the next ask sees them still. */
  let seen = new Map<string, string>();
  let quietFor = QUIET_MS;
  let askAt = Date.now() + quietFor;
  let asking = false;
  const followed = (id: string) => !jobIds || jobIds.has(id);
  const timer = setInterval(() => {
    if (asking || Date.now() < askAt) return;
    asking = true;
    client
      .getRun(runName)
      .then((run) => {
        const byId = new Map(run.jobs.map((j) => [j.id, j]));
        const still = new Map<string, string>();
        for (const job of run.jobs) {
          const why = followed(job.id) ? worthSaying(job, byId, followed) : undefined;
          if (why === undefined || shown.get(job.id) === why.reason) continue;
          // Only the server's reason is said at once: a job that became ready a moment ago
          // waits for a runner until it is taken, and that is no news.
          if (why.by !== 'server' && seen.get(job.id) !== why.reason) {
            still.set(job.id, why.reason);
            continue;
          }
          shown.set(job.id, why.reason);
          process.stderr.write(pc.dim(`[dstack] ${job.ref} waits: ${printable(why.reason)}\n`));
        }
        seen = still;
      })
      .catch(() => {}) // the follow itself reports a server that went away
      .finally(() => {
        asking = false;
        // A reason to confirm is asked about again soon; else less and less often.
        if (seen.size === 0) quietFor = Math.min(2 * quietFor, MAX_QUIET_MS);
        askAt = Date.now() + (seen.size > 0 ? QUIET_MS / 2 : quietFor);
      });
  }, QUIET_MS / 2);
  timer.unref();
  return {
    heard: () => {
      quietFor = QUIET_MS;
      askAt = Date.now() + quietFor;
      seen.clear(); // the run moves: a job seen waiting is seen anew
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Why `job` waits, when the follow has not shown it: a job waiting for dependencies that the
 * follow shows says nothing, since they print, or say why they wait, themselves.
 */
function worthSaying(
  job: JobRecord,
  byId: ReadonlyMap<string, JobRecord>,
  followed: (id: string) => boolean,
): ReturnType<typeof waitingReason> {
  const why = waitingReason(job, byId);
  return why?.by === 'dependencies' && why.dependencies.some(followed) ? undefined : why;
}
