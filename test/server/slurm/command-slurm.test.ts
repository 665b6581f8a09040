/** The Slurm commands against the real single-node Slurm of scripts/slurm.sh, and their errors. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { CommandSlurm, type SlurmPaths } from '../../../src/server/backends/slurm/command-slurm.js';
import { ensureSlurm, skipSlurm, slurm as slurmCommand } from '../../services/slurm.js';

const PATHS: SlurmPaths = { sbatch: 'sbatch', squeue: 'squeue', scancel: 'scancel', sacct: 'sacct', sinfo: 'sinfo' };
const slurm = (paths: Partial<SlurmPaths> = {}, env: NodeJS.ProcessEnv = process.env) =>
  new CommandSlurm({ paths: { ...PATHS, ...paths }, env, logger: silentLogger });

async function waitFor<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ids = () => slurmCommand('squeue', ['-h', '-t', 'all', '-o', '%i']);
const listed = (text: string) => text.split('\n').map((l) => l.trim());

describe.skipIf(skipSlurm)('Slurm commands', () => {
  beforeAll(() => ensureSlurm(), 300_000);

  it("lists the partition's nodes", async () => {
    const nodes = await slurm().nodes();
    expect(nodes.length).toBe(1);
    expect(nodes[0]!.cpus).toBeGreaterThan(0);
    expect(nodes[0]!.memory).toBeGreaterThan(0);
  });

  it(
    'submits a batch script, follows it to its end, and finds it again through sacct -c',
    { timeout: 60_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-sbatch-'));
      const s = slurm();
      const id = await s.submit({
        args: [`--output=${dir}/out`, '--job-name=dstack-test-submit'],
        script: '#!/bin/bash\necho hello from slurm\nexit 3\n',
      });
      expect(id).toMatch(/^\d+$/);
      const ended = await waitFor(async () => {
        const state = (await s.states([id])).get(id);
        return state?.state === 'FAILED' ? state : undefined;
      });
      expect(ended).toEqual({ slurmId: id, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3 });
      expect(await readFile(join(dir, 'out'), 'utf8')).toBe('hello from slurm\n');
      // Once squeue forgets it (MinJobAge), the job completion log still knows it (no slurmdbd here).
      await waitFor(async () => (listed(await ids()).includes(id) ? undefined : true), 30_000);
      const old = await s.states([id, '999999']);
      expect(old.get(id)).toEqual({ slurmId: id, state: 'FAILED', exitCode: 3 });
      expect(old.has('999999')).toBe(false);
    },
  );

  it('signals the batch shell only with SIGTERM, and cancels; a finished job is no error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-scancel-'));
    const s = slurm();
    const id = await s.submit({
      args: [`--output=${dir}/out`],
      script: "#!/bin/bash\ntrap 'echo batch shell got TERM' TERM\necho ready\nwhile true; do sleep 0.1; done\n",
    });
    await waitFor(async () =>
      (await readFile(join(dir, 'out'), 'utf8').catch(() => '')).includes('ready') ? true : undefined,
    );
    await s.cancel(id, 'TERM');
    await waitFor(async () => ((await readFile(join(dir, 'out'), 'utf8')).includes('got TERM') ? true : undefined));
    expect((await s.states([id])).get(id)?.state).toBe('RUNNING');
    await s.cancel(id);
    expect(await waitFor(async () => ((await s.states([id])).get(id)?.state === 'CANCELLED' ? true : undefined))).toBe(
      true,
    );
    await s.cancel(id, 'TERM');
    await s.cancel(id);
  });

  it('names a command that is not at its path', async () => {
    const missing = slurm({ sbatch: '/opt/nowhere/sbatch' });
    await expect(missing.check()).rejects.toThrow(
      "sbatch not found at '/opt/nowhere/sbatch': set its path with --slurm-sbatch",
    );
    const error = await missing.submit({ args: [], script: '#!/bin/bash\n' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe(
      "sbatch not found at '/opt/nowhere/sbatch': set its path with --slurm-sbatch",
    );
    await expect(slurm({}, { PATH: '/nowhere' }).check()).rejects.toThrow(
      'sbatch not found on PATH (/nowhere): set its path with --slurm-sbatch',
    );
    await slurm().check();
  });

  it('says so when slurmctld cannot be reached', async () => {
    const conf = join(await mkdtemp(join(tmpdir(), 'dstack-slurmconf-')), 'slurm.conf');
    const real = await readFile('/etc/slurm/slurm.conf', 'utf8');
    await writeFile(
      conf,
      real.replace(/^SlurmctldHost=.*$/m, (line) => `${line}\nSlurmctldPort=9`),
    );
    const error = await slurm({}, { ...process.env, SLURM_CONF: conf })
      .nodes()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(
      /^slurmctld is unreachable: sinfo at 'sinfo' said: .*Unable to contact slurm controller/,
    );
  }, 60_000);
});
