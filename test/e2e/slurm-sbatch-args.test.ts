/**
 * `--slurm-sbatch-args` checked as the server starts, on the real Slurm of scripts/slurm.sh: an
 * option sbatch cannot read refuses the start (it failed every job's submission, found only at
 * the first); a job sbatch refuses for the cluster's sake (here: more memory than any node has,
 * as drained nodes would) is a warning, and the server starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSlurm, skipSlurm } from '../services/slurm.js';
import { DstackServer } from './slurm-harness.js';

describe.skipIf(skipSlurm)('--slurm-sbatch-args at the start', () => {
  let server: DstackServer;
  beforeAll(async () => {
    await ensureSlurm();
    server = await DstackServer.create();
  }, 300_000);
  afterAll(() => server?.stop());

  it('refuses an option sbatch cannot read, in its words, and never says it listens', async () => {
    const typo = await server.start('slurm', ['--slurm-sbatch-args', '--qoss=normal']).catch((e: Error) => e);
    expect(String(typo)).toContain('the server exited (2)');
    expect(String(typo)).toContain(
      "error: sbatch refuses an option of --slurm-sbatch-args (or sbatch-args in --config): sbatch: unrecognized option '--qoss=normal'; " +
        'correct it (sbatch --help lists its options)',
    );
    const time = await server.start('slurm', ['--slurm-sbatch-args', '--time=soon']).catch((e: Error) => e);
    expect(String(time)).toContain('sbatch: error: Invalid --time specification; correct it');
    expect(server.output).not.toContain('server listening');
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
