/** Slurm as the floor for the Slurm backend: bare `sbatch --wrap` on the cluster scripts/slurm.sh provides. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, exec, REPO, sh } from '../util.js';

const SCRIPT = join(REPO, 'scripts', 'slurm.sh');

export interface SlurmUp {
  /** Whether this run started it (and so stops it). */
  startedHere: boolean;
}

/** A running Slurm (started with scripts/slurm.sh when it is not up, installed only if `install`), or why there is none. */
export async function ensureSlurm(install: boolean): Promise<SlurmUp | { why: string }> {
  if (!existsSync(SCRIPT)) return { why: 'scripts/slurm.sh is absent' };
  const status = await exec('bash', [SCRIPT, 'status'], { allowFailure: true, timeoutMs: 30_000 });
  if (status.code === 0) return { startedHere: false };
  const installed = await sh('command -v slurmctld && command -v slurmd && command -v sbatch', { allowFailure: true });
  if (installed.code !== 0 && !install) {
    return {
      why: 'Slurm is not installed and --quick does not install it (run scripts/slurm.sh start, or the full bench)',
    };
  }
  const start = await exec('bash', [SCRIPT, 'start'], { allowFailure: true, timeoutMs: 5 * 60_000 });
  if (start.code !== 0) {
    return { why: `scripts/slurm.sh start failed: ${start.stderr.trim().split('\n').slice(-2).join(' ')}` };
  }
  return { startedHere: true };
}

export async function stopSlurm(): Promise<void> {
  await exec('bash', [SCRIPT, 'stop'], { allowFailure: true, timeoutMs: 60_000 });
}

export async function sbatch(script: string): Promise<string> {
  const r = await exec('sbatch', ['--parsable', '--output', '/dev/null', '--wrap', script], { stdout: 'capture' });
  return r.stdout.trim().split(';')[0]!;
}

/** `sbatch --dependency=afterok:…`: a job that Slurm starts once all of `after` completed. */
export async function sbatchAfter(script: string, after: string[]): Promise<string> {
  const r = await exec(
    'sbatch',
    ['--parsable', '--output', '/dev/null', `--dependency=afterok:${after.join(':')}`, '--wrap', script],
    { stdout: 'capture' },
  );
  return r.stdout.trim().split(';')[0]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until Slurm's queue is empty (the one node is shared with test suites and other
 * benchmarks: a measurement taken while their jobs hold it measures them). Resolves with how
 * many jobs were still queued when `timeoutMs` ran out (0: the queue emptied).
 */
export async function quietQueue(timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await sh('squeue -h -o %i', { stdout: 'capture', allowFailure: true });
    const queued = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
    if (r.code === 0 && queued === 0) return 0;
    if (Date.now() > deadline) return queued;
    await sleep(250);
  }
}

/** Waits until every job of `ids` has left the queue's active states. */
export async function waitJobs(ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await sh(`squeue -h -t all -o %T -j ${ids.join(',')}`, { stdout: 'capture', allowFailure: true });
    const active = r.stdout.split('\n').filter((s) => /PENDING|RUNNING|CONFIGURING|COMPLETING/.test(s));
    if (r.code === 0 && active.length === 0) return;
    await sleep(50);
  }
  throw new Error(`Slurm jobs still queued after ${timeoutMs / 1000}s`);
}

/** Seconds from `t0` (epoch seconds) to the timestamp a job writes into `file`, polling for it. */
/**
 * A script that writes the time it starts to `stamp`, then execs `command` with its arguments.
 * Given to the server as its sbatch and as the runner a batch job starts, it times dstack's own
 * steps; bash's clock needs no process of its own, and the script's start is on dstack's path.
 */
export async function stamping(file: string, stamp: string, command: string): Promise<string> {
  const script = `#!/bin/bash\nprintf '%s\\n' "\${EPOCHREALTIME/,/.}" > '${stamp}'\nexec ${command} "$@"\n`;
  await writeFile(file, script, { mode: 0o755 });
  return file;
}

export async function startedAfter(file: string, t0: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.trim()) return Number(text.trim()) - t0;
    await sleep(5);
  }
  throw new Error(`no job wrote ${file} within ${timeoutMs / 1000}s`);
}

export function describe(e: unknown): string {
  return errorMessage(e).split('\n')[0] ?? '';
}
