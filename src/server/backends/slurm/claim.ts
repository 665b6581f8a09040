/**
 * What the Slurm runner claims. Within the partition's free capacity, any ready job it can run,
 * as any runner. Beyond it, up to `queue-depth` rounds of the partition, jobs that then wait in
 * Slurm's queue, so that Slurm starts one the moment a running job ends: only those no other
 * active runner could ever run. A job that another runner could start is never queued behind
 * Slurm's busy nodes; in a Slurm-only setup (or for jobs only Slurm can run) the queue stays full.
 */
import type { Assignment } from '../../../core/api.js';
import { neverRuns } from '../../../core/job-needs.js';
import type { Engine } from '../../engine.js';
import { claimOnce } from '../../scheduler.js';
import { queuedCapacity } from './capacity.js';

export async function claimForSlurm(
  engine: Engine,
  runner: string,
  queueDepth: number,
): Promise<Assignment | undefined> {
  const now = await claimOnce(engine, runner);
  if (now || queueDepth <= 1) return now;
  const runners = await engine.store.listRunners();
  const own = runners.find((r) => r.name === runner);
  if (own?.status !== 'ACTIVE') return undefined;
  // A draining runner takes nothing new; an OFFLINE or LOST one may never come back.
  const others = runners.filter(
    (r) => r.name !== runner && r.status === 'ACTIVE' && !engine.presence.isDraining(r.name),
  );
  return claimOnce(engine, runner, {
    total: queuedCapacity(own.total, queueDepth),
    only: (job) => others.every((r) => neverRuns(job.spec, r.total) !== null),
  });
}
