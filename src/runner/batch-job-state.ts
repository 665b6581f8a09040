/**
 * Whether Slurm is ending the batch job a one-shot runner runs in (a time limit, a preemption,
 * an admin's scancel). slurmctld marks such a job (COMPLETING, TIMEOUT, CANCELLED…) before it
 * has the node signal its processes, and slurmstepd signals the deepest processes first: a job
 * that traps SIGTERM and exits at once can reach the runner before the runner's own SIGTERM
 * does. Its state, read once the job's commands have ended, says who ended them without a race.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The batch job this process runs in, and the squeue to ask about it. */
export interface BatchJob {
  /** SLURM_JOB_ID. */
  id: string;
  /** The squeue command, a path or a name on PATH (the server's `squeue`). */
  squeue: string;
}

/** true: Slurm is ending it; false: it runs; undefined: squeue could not say (the reason in `error`). */
export type BatchJobEnding = { ending: boolean } | { ending: undefined; error: string };

/**
 * Asked once a job's commands have ended on their own. A running batch script keeps its job
 * RUNNING in Slurm; any other state (COMPLETING, SIGNALING…) means Slurm is acting on it, and
 * a job that ends while it does is stopped, not DONE: whether it trapped SIGTERM and exited 0
 * or simply finished in that moment, a resume runs it again, which a DONE wrongly cached would not.
 */
export async function batchJobEnding(job: BatchJob): Promise<BatchJobEnding> {
  let stdout: string;
  try {
    ({ stdout } = await exec(job.squeue, ['-h', '-j', job.id, '-o', '%T'], { timeout: 10_000 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ending: undefined, error: `${job.squeue}: ${err.stderr?.trim() || err.message}` };
  }
  const state = stdout.trim();
  if (state === '') return { ending: undefined, error: `${job.squeue} does not know batch job ${job.id}` };
  return { ending: state !== 'RUNNING' };
}
