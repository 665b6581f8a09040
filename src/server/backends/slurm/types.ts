/**
 * The Slurm backend's port: the few things it asks of a cluster. `CommandSlurm` runs the
 * real commands; tests of the logic above it use recorded outputs through the parsers.
 */

import { UnavailableError } from '../../../core/errors.js';

/** slurmctld did not answer (a restart, a failover, its host down): what asked may ask again. */
export class SlurmUnreachableError extends UnavailableError {}

/** A Slurm job as `squeue`/`sacct` report it. */
export interface SlurmJobState {
  slurmId: string;
  /** Base state: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, … */
  state: string;
  /** Slurm's reason (`Resources`, `Priority`, `TimeLimit`), absent when it says `None`. */
  reason?: string;
  /** The batch script's exit code, when Slurm reports one. */
  exitCode?: number;
  /**
   * Slurm has decided the job's end but its processes may still run (the COMPLETING flag beside
   * the state, `["TIMEOUT", "COMPLETING"]` in squeue --json of 23.02+): they get SIGTERM, and
   * SIGKILL after KillWait, and the flag clears once the node has reaped them all.
   */
  completing?: boolean;
}

/** One node of the partition, from `sinfo`. */
export interface SlurmNode {
  name: string;
  cpus: number;
  /** Bytes (Slurm reports megabytes, 2^20). */
  memory: number;
  /** GPUs by gres type (`a100`), or `gpu` when the gres has no type. */
  gpus: { type: string; count: number }[];
  /** `idle`, `mixed`, `allocated`, `down*`, `drained`, … */
  state: string;
}

/** What `sbatch` is given: its options and the batch script's text. */
export interface BatchSubmission {
  args: string[];
  script: string;
}

export interface SlurmCommands {
  /** Fail with a message naming the command when one is missing (checked at start, not at the first job). */
  check(): Promise<void>;
  /** Submit a batch job; resolves with its Slurm job id. */
  submit(submission: BatchSubmission): Promise<string>;
  /** The states of these jobs as far as Slurm still knows them (missing ids are unknown to it). */
  states(slurmIds: readonly string[]): Promise<Map<string, SlurmJobState>>;
  /** `scancel` (signal undefined: cancel the job; a signal: send it to the batch shell only). */
  cancel(slurmId: string, signal?: 'TERM'): Promise<void>;
  /** The partition's nodes. */
  nodes(): Promise<SlurmNode[]>;
  /** The cluster's partitions, hidden ones too: which of those asked for do not exist (a partition with no nodes is another matter). */
  partitions(): Promise<string[]>;
  /**
   * `sbatch --test-only` with `args` (options.ts sbatchArgs, with the partition and account):
   * throws a UsageError where sbatch cannot read an option (a typo); returns what else it said
   * in refusing (the cluster's state: drained nodes), or undefined where it would take the job.
   * Absent from a scripted Slurm of tests, which then checks nothing.
   */
  testOptions?(args: readonly string[]): Promise<string | undefined>;
}

/** Slurm states after which the job's processes are gone (or going). */
export const FINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

/** States in which the job waits for resources or its turn. */
export const WAITING_STATES = new Set([
  'PENDING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'SUSPENDED',
]);
