/**
 * Waiting jobs too big for the partition. The scheduler hands the Slurm runner only jobs within
 * its queued capacity (the partition's sum, times the queue depth), so one bigger than that (64
 * CPUs, a GPU on a GPU-less partition) would wait as SUBMITTED forever; a smaller one that no
 * single node fits reaches the submitter, which fails it. This fails the bigger ones the same way.
 */
import { lacks, neverRuns } from '../../../core/job-needs.js';
import { neverFits, type Capacity, type ResourceRequest } from '../../../core/resources.js';
import { whyNoRunner, type RunnerLack } from '../../monitor.js';
import type { Engine } from '../../engine.js';
import { noNodeEverFits, partsNoNodeHas, type RequestPart } from './capacity.js';
import type { SlurmNode } from './types.js';

/**
 * Fail each SUBMITTED job (not one reusing a cached result) that no node of the partition could
 * run, even with its down and drained nodes back, and that no other registered runner could ever fit.
 * With Slurm alone, the reason is the submitter's: `slurm: no node has 64 CPUs (the most is 2)`;
 * with other runners, why none of them can, as the monitor says it (`no runner has 64 CPUs`,
 * `no runner has what it needs (cpu-box: 3.0GB of memory; slurm: 2 GPUs)`): Slurm's nodes alone
 * are not why it fails.
 */
export async function failUnfittable(engine: Engine, runner: string, nodes: readonly SlurmNode[]): Promise<void> {
  const unfittable = [];
  for (const job of await engine.store.jobsByStatus(['SUBMITTED'])) {
    const problem = job.cachedFrom ? null : noNodeEverFits(job.spec.resources, nodes);
    if (problem) unfittable.push({ job, problem });
  }
  if (unfittable.length === 0) return;
  // A team server's own runners, or the local one beside Slurm, may take what Slurm cannot: an
  // OFFLINE or LOST one too, being restarted (the monitor gives the job its waiting reason, as
  // without Slurm). Only a deleted runner, whose row is gone, will not come back.
  const registered = await engine.store.listRunners();
  for (const { job, problem } of unfittable) {
    const lacking: RunnerLack[] = [];
    for (const r of registered) {
      // Slurm's own: the partition's size, or where that would do, the node that none is.
      const never =
        r.name === runner
          ? { size: slurmSize(job.spec.resources, r.total, nodes, problem), ability: lacks(job.spec, r.total) }
          : neverRuns(job.spec, r.total);
      if (never) lacking.push({ name: r.name, ...never });
    }
    if (lacking.length < registered.length) continue;
    const reason = registered.length > 1 ? whyNoRunner(lacking).reason : `slurm: ${problem}`;
    // Refused when it was claimed or stopped meanwhile: nothing to do.
    await engine.transition(job.id, 'SUBMITTED', 'FAILED', { reason }, 'server');
  }
}

/**
 * What Slurm lacks for a request no node fits: the partition's size (`64 CPUs`, said as other
 * runners' sizes are) where it lacks every part the nodes do, else the nodes' words, which name
 * them all: a job of 100 CPUs and 100GB on a partition of 4 × 16 CPUs and 4 × 64GB was told only
 * `slurm: 100 CPUs`, nothing of memory that no node has.
 */
function slurmSize(request: ResourceRequest, total: Capacity, nodes: readonly SlurmNode[], problem: string): string {
  const sum = neverFits(request, total);
  if (sum === null) return problem;
  const only: Record<RequestPart, ResourceRequest> = {
    cpu: { ...request, memory: 0, gpu: 0 },
    memory: { ...request, cpu: 0, gpu: 0 },
    gpu: { ...request, cpu: 0, memory: 0 },
  };
  const covered = partsNoNodeHas(request, nodes).every((part) => neverFits(only[part], total) !== null);
  return covered ? sum : problem;
}
