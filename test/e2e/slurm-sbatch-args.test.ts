/**
 * `--slurm-sbatch-args` checked as the server starts, on the real Slurm of scripts/slurm.sh: an
 * option sbatch cannot read refuses the start (it failed every job's submission, found only at
 * the first); a job sbatch refuses for the cluster's sake (here: more memory than any node has,
 * as drained nodes would) is a warning, and the server starts. Options dstack sets itself
 * (`--requeue`) refuse it too, and the extra options come before a job's own, which win.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSlurm, skipSlurm } from '../services/slurm.js';
import { Sandbox } from './harness.js';
import { DstackServer } from './slurm-harness.js';

describe.skipIf(skipSlurm)('--slurm-sbatch-args at the start', () => {
  let server: DstackServer;
  let sb: Sandbox | undefined;
  beforeAll(async () => {
    await ensureSlurm();
    server = await DstackServer.create();
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await sb?.dispose();
  });

  it('refuses an option sbatch cannot read, in its words, and never says it listens', async () => {
    const typo = await server.start('slurm', ['--slurm-sbatch-args', '--qoss=normal']).catch((e: Error) => e);
    expect(String(typo)).toContain('the server exited (2)');
    expect(String(typo)).toContain(
      "error: sbatch refuses an option of --slurm-sbatch-args (or sbatch-args in --config): sbatch: unrecognized option '--qoss=normal'; " +
        'correct it (sbatch --help lists its options)',
    );
    const time = await server.start('slurm', ['--slurm-sbatch-args', '--time=soon']).catch((e: Error) => e);
    expect(String(time)).toContain('sbatch: error: Invalid --time specification; correct it');
    // An option dstack sets itself: a requeued batch job would start a runner whose token is spent.
    const requeue = await server.start('slurm', ['--slurm-sbatch-args', '--requeue']).catch((e: Error) => e);
    expect(String(requeue)).toContain(
      "error: invalid --slurm-sbatch-args: '--requeue' is dstack's to set: dstack decides what runs again",
    );
    expect(server.output).not.toContain('server listening');
  });

  it('gives a job its own memory over a --mem among them, which jobs that ask for none get', async () => {
    await server.start('slurm', ['--slurm-sbatch-args', '--mem=300M --time=10']);
    sb = await Sandbox.create();
    const echo = ['echo "mem=$SLURM_MEM_PER_NODE"'];
    await sb.write({
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: sized',
        '    resources: { memory: 500MB }',
        `    commands: ${JSON.stringify(echo)}`,
        '  - name: unsized',
        `    commands: ${JSON.stringify(echo)}`,
        '',
      ].join('\n'),
    });
    for (const [workflow, mem] of [
      ['sized', 'mem=477'],
      ['unsized', 'mem=300'],
    ] as const) {
      const run = await sb.dstack(['run', workflow], { env: server.env(), timeoutMs: 120_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(mem);
    }
  });

  it("starts, with a warning, where sbatch refuses the job for the cluster's sake", async () => {
    await server.start('slurm', ['--slurm-sbatch-args', '--mem=100000G']);
    expect(server.output).toMatch(
      /WARN .*sbatch --test-only --mem=100000G refused a job: .*Requested node configuration is not available; starting all the same/,
    );
    await server.start('slurm', ['--slurm-sbatch-args', '--time=1:00:00 --comment="ml team"']);
    expect(server.output).not.toContain('--test-only');
  });
});
