/**
 * A real single-node Slurm for tests, started by scripts/slurm.sh (installing Debian's
 * packages when missing). It is left running for the next test file; `.ci/run` stops it.
 * When it cannot be started the error says how to get it: tests never skip silently.
 * DSTACK_SKIP_SLURM=1 skips the Slurm tests, for machines where Slurm cannot run.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './paths.js';

const exec = promisify(execFile);

/** True only when the user asked to skip the Slurm tests (DSTACK_SKIP_SLURM=1). */
export const skipSlurm = process.env.DSTACK_SKIP_SLURM === '1';

let started: Promise<void> | undefined;

export function ensureSlurm(): Promise<void> {
  started ??= start();
  return started;
}

async function start(): Promise<void> {
  try {
    await exec('bash', [join(REPO, 'scripts', 'slurm.sh'), 'start'], { timeout: 300_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `cannot start Slurm for the tests (scripts/slurm.sh start): ${err.stderr?.trim() || err.message}\n` +
        'Run scripts/slurm.sh start as root (it installs slurmctld, slurmd, slurm-client and munge from Debian), ' +
        'or set DSTACK_SKIP_SLURM=1 to skip the Slurm tests on purpose.',
    );
  }
}

/** Run a Slurm command (`squeue`, `scancel`, `sbatch`) and return its output. */
export async function slurm(command: string, args: string[]): Promise<string> {
  return (await exec(command, args, { timeout: 60_000 })).stdout;
}

/**
 * A batch job outside dstack that holds every CPU of the one test node, running: dstack's jobs
 * queue behind it until it is scancelled (its id). The node is shared with other test files'
 * jobs, so it may wait behind them first.
 */
export async function holdTheNode(): Promise<string> {
  const cpus = (await slurm('sinfo', ['-h', '-N', '-o', '%c'])).trim();
  const blocker = (
    await slurm('sbatch', ['--parsable', `--cpus-per-task=${cpus}`, '-o', '/dev/null', '--wrap', 'sleep 120'])
  ).trim();
  const deadline = Date.now() + 120_000;
  while ((await slurm('squeue', ['-h', '-j', blocker, '-o', '%T'])).trim() !== 'RUNNING') {
    if (Date.now() > deadline) {
      await slurm('scancel', [blocker]);
      throw new Error(`batch job ${blocker} holding the node did not start in 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return blocker;
}
