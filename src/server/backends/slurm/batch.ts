/**
 * A dstack job as a Slurm batch job: `sbatch` options from its resources, and a batch
 * script that execs `dstack runner exec`, the runner's code in one-shot mode, which
 * prepares the workspace, runs the job, ships its logs and artifacts, and reports back.
 */
import { join } from 'node:path';
import { printable } from '../../../core/printable.js';
import type { JobRecord } from '../../../core/records.js';
import { shellQuote } from '../../../core/variables.js';
import type { BatchSubmission } from './types.js';

export interface BatchOptions {
  /** The server's URL as the compute nodes reach it. */
  serverUrl: string;
  /** How a compute node runs dstack: a shell command line (`/usr/bin/node /opt/dstack/dist/cli/main.js`). */
  dstackCommand: string;
  /** The squeue the runner asks whether Slurm is ending its batch job (the server's own). */
  squeue: string;
  partition?: string;
  account?: string;
  /** More sbatch options, as given (`--qos=high`, `--time=2:00:00`), before the job's own. */
  extraArgs: readonly string[];
}

/** A job's folder in the shared work dir: it holds a folder per submission to Slurm (attemptDir). */
export function jobDir(workDir: string, jobId: string): string {
  return join(workDir, 'jobs', jobId);
}

/**
 * The folder of one submission of a job, named by its time: its token file, Slurm's output
 * file, its workspace. An earlier submission's folder (a stopped job, resumed) is its own, so
 * the cleanup of one never touches what the next one wrote.
 */
export function attemptDir(workDir: string, jobId: string, at: number): string {
  return join(jobDir(workDir, jobId), String(at));
}

/** Where the one-shot runner finds its token (mode 0600; it deletes the file once read). */
export function tokenFile(dir: string): string {
  return join(dir, 'token');
}

/** Slurm's output file of the batch job: the one-shot runner's own messages, not the job's log. */
export function outputFile(dir: string, slurmId = '%j'): string {
  return join(dir, `slurm-${slurmId}.out`);
}

/**
 * bin/dstack's move of NODE_EXTRA_CA_CERTS, for the runner the script starts: Node would parse
 * the bundle before the job's first command (src/cli/deferred-ca.ts puts it back).
 */
const DEFER_CA_CERTS = [
  "# NODE_EXTRA_CA_CERTS applies at the runner's first TLS connection, not at its start (as in bin/dstack).",
  'case " ${NODE_OPTIONS-} " in *--use-openssl-ca* | *--use-system-ca*) ;; *)',
  '  if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then export DSTACK_DEFERRED_CA_CERTS=$NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi ;;',
  'esac',
];

/** The sbatch options and script of `job`, whose submission's folder is `dir` (attemptDir). */
export function batchSubmission(job: JobRecord, dir: string, options: BatchOptions): BatchSubmission {
  const { resources } = job.spec;
  // The admin's options first: sbatch takes the last of an option given twice, so a job's own
  // resources win over a default there (`--mem=4G` for jobs that ask for no memory).
  const args = [
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.account ? [`--account=${options.account}`] : []),
    ...options.extraArgs,
    `--job-name=dstack-${job.workflow}-${job.id}`,
    `--output=${outputFile(dir)}`,
    `--chdir=${dir}`,
    '--nodes=1',
    '--ntasks=1',
    // dstack decides what runs again (resume, the cache); a node failure ends the job with Slurm's reason.
    '--no-requeue',
  ];
  if (resources.cpu > 0) args.push(`--cpus-per-task=${Math.ceil(resources.cpu)}`);
  if (resources.memory > 0) args.push(`--mem=${Math.ceil(resources.memory / 2 ** 20)}M`);
  if (resources.gpu > 0) args.push(`--gres=${gres(job)}`);
  const exec = [
    'runner',
    'exec',
    '--job',
    job.id,
    '--server',
    options.serverUrl,
    '--token-file',
    tokenFile(dir),
    '--work-dir',
    join(dir, 'work'),
    '--squeue',
    options.squeue,
  ];
  const script = [
    '#!/bin/bash',
    // Escaped: the API takes any workflow name, and a line break in one would end the comment.
    `# dstack job ${job.id}: ${printable(job.workflow)} of run ${printable(job.runName)}, submitted by the dstack server.`,
    '# The runner prepares the workspace, runs the commands, and sends logs, artifacts and status back.',
    ...DEFER_CA_CERTS,
    `exec ${options.dstackCommand} ${exec.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
  return { args, script };
}

/** `gpu:N`, or `gpu:TYPE:N` when the job asked for a GPU name and the scheduler matched a gres type. */
function gres(job: JobRecord): string {
  const { gpu, gpuName } = job.spec.resources;
  const type = job.gpus?.[0]?.name;
  return gpuName !== undefined && type !== undefined && type !== 'gpu' ? `gpu:${type}:${gpu}` : `gpu:${gpu}`;
}
