/** The Slurm commands against the real single-node Slurm of scripts/slurm.sh, and their errors. */
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
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

/**
 * The real squeue behind a script that keeps each call's arguments and what it printed; with
 * `json: false` it refuses `--json` as a Slurm without its JSON plugins does.
 */
async function recordedSqueue(json: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-squeue-'));
  const calls = join(dir, 'calls');
  await mkdir(calls);
  const path = join(dir, 'squeue');
  // Not on PATH itself: the squeue it runs is the real one.
  const script = [
    '#!/bin/bash',
    `n=$(ls ${calls} | grep -c args)`,
    `echo "$*" > ${calls}/$n.args`,
    json ? '' : `[ "$1" = --json ] && { echo "squeue: unrecognized option '--json'" >&2; exit 1; }`,
    `squeue "$@" > ${calls}/$n.out`,
    `rc=$?; cat ${calls}/$n.out; exit $rc`,
  ];
  await writeFile(path, `${script.join('\n')}\n`, { mode: 0o755 });
  const read = async () => {
    const count = (await readdir(calls)).filter((f) => f.endsWith('.args')).length;
    const call = async (n: number) => ({
      args: (await readFile(join(calls, `${n}.args`), 'utf8')).trim(),
      printed: await readFile(join(calls, `${n}.out`), 'utf8').catch(() => ''), // a refused --json
    });
    return Promise.all(Array.from({ length: count }, (_, n) => call(n)));
  };
  return { path, calls: read };
}

const sleeper = (s: CommandSlurm, dir: string, name: string) =>
  s.submit({
    args: [`--output=${dir}/${name}.out`, `--job-name=dstack-test-${name}`],
    script: '#!/bin/bash\nsleep 60\n',
  });

describe.skipIf(skipSlurm)('Slurm commands', () => {
  beforeAll(() => ensureSlurm(), 300_000);

  it("lists the partition's nodes", async () => {
    const nodes = await slurm().nodes();
    expect(nodes.length).toBe(1);
    expect(nodes[0]!.cpus).toBeGreaterThan(0);
    expect(nodes[0]!.memory).toBeGreaterThan(0);
  });

  it("lists the cluster's partitions, each once, without the default's '*'", async () => {
    const listed = (await slurmCommand('sinfo', ['-h', '-a', '-o', '%R'])).trim().split('\n');
    expect(await slurm().partitions()).toEqual([...new Set(listed)]);
    expect((await slurm().partitions()).some((p) => p.includes('*'))).toBe(false);
  });

  it(
    'submits a batch script, follows it to its end, and finds it again through sacct -c',
    { timeout: 240_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-sbatch-'));
      const s = slurm();
      const id = await s.submit({
        args: [`--output=${dir}/out`, '--job-name=dstack-test-submit'],
        script: '#!/bin/bash\necho hello from slurm\nexit 3\n',
      });
      expect(id).toMatch(/^\d+$/);
      // The one node is shared with other test files' jobs (one may hold all its CPUs): it may wait.
      const ended = await waitFor(async () => {
        const state = (await s.states([id])).get(id);
        return state?.state === 'FAILED' ? state : undefined;
      }, 150_000);
      // The exit code comes with squeue --json only; the formatted listing has Slurm's reason.
      expect(ended).toMatchObject({ slurmId: id, state: 'FAILED', reason: 'NonZeroExitCode' });
      expect(await readFile(join(dir, 'out'), 'utf8')).toBe('hello from slurm\n');
      // Once squeue forgets it (MinJobAge), the job completion log still knows it (no slurmdbd here).
      await waitFor(async () => (listed(await ids()).includes(id) ? undefined : true), 30_000);
      const old = await s.states([id, '999999']);
      expect(old.get(id)).toEqual({ slurmId: id, state: 'FAILED', exitCode: 3 });
      expect(old.has('999999')).toBe(false);
      // Asked about alone, squeue fails ('Invalid job id specified'): the completion log still answers.
      expect((await s.states([id])).get(id)).toEqual({ slurmId: id, state: 'FAILED', exitCode: 3 });
      expect((await slurm({ squeue: (await recordedSqueue(false)).path }).states([id])).get(id)).toEqual({
        slurmId: id,
        state: 'FAILED',
        exitCode: 3,
      });
    },
  );

  it.each([
    ['squeue --json', true],
    ['the formatted listing where --json is missing', false],
  ])('asks squeue about the tracked jobs only, not the whole queue (%s)', { timeout: 60_000 }, async (_, json) => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-squeue-jobs-'));
    const squeue = await recordedSqueue(json);
    const s = slurm({ squeue: squeue.path });
    const tracked = await sleeper(s, dir, 'tracked');
    const other = await sleeper(s, dir, 'other');
    try {
      for (let tick = 0; tick < 2; tick++) {
        const states = await s.states([tracked]);
        expect([...states.keys()]).toEqual([tracked]);
        expect(['PENDING', 'RUNNING']).toContain(states.get(tracked)!.state);
      }
      const calls = await squeue.calls();
      for (const call of calls) expect(call.args).toContain(`--jobs=${tracked}`);
      // A squeue whose --json ignores filters (22.05) is asked once that way, then with -o.
      const last = calls.at(-1)!;
      expect(last.printed).toMatch(new RegExp(`\\b${tracked}\\b`));
      expect(last.printed).not.toMatch(new RegExp(`\\b${other}\\b`));
      // Very many: a thousand ids a call, and ids Slurm never had are no error.
      const unknown = Array.from({ length: 1500 }, (_, i) => String(90_000_000 + i));
      expect([...(await s.states([...unknown, tracked])).keys()]).toEqual([tracked]);
      const asked = (await squeue.calls()).slice(calls.length).map((c) => c.args.split('--jobs=')[1]!.split(','));
      expect(asked.map((ids) => ids.length)).toEqual([1000, 501]);
    } finally {
      await slurmCommand('scancel', [tracked, other]);
    }
  });

  it('signals the batch shell only with SIGTERM, and cancels; a finished job is no error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-scancel-'));
    const s = slurm();
    const id = await s.submit({
      args: [`--output=${dir}/out`],
      script: "#!/bin/bash\ntrap 'echo batch shell got TERM' TERM\necho ready\nwhile true; do sleep 0.1; done\n",
    });
    try {
      await waitFor(async () =>
        (await readFile(join(dir, 'out'), 'utf8').catch(() => '')).includes('ready') ? true : undefined,
      );
      await s.cancel(id, 'TERM');
      await waitFor(async () => ((await readFile(join(dir, 'out'), 'utf8')).includes('got TERM') ? true : undefined));
      expect((await s.states([id])).get(id)?.state).toBe('RUNNING');
      await s.cancel(id);
      expect(
        await waitFor(async () => ((await s.states([id])).get(id)?.state === 'CANCELLED' ? true : undefined)),
      ).toBe(true);
      await s.cancel(id, 'TERM');
      await s.cancel(id);
    } finally {
      // A run that timed out (the shared node busy with other tests' jobs) left it running for good, holding a CPU.
      await slurmCommand('scancel', [id]).catch(() => '');
    }
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
