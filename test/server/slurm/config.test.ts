/** The Slurm backend's settings from `dstack server` flags and a server config file, and their errors. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slurmFromFlags } from '../../../src/cli/commands/server-backends.js';
import { UsageError } from '../../../src/core/errors.js';
import { batchServerUrl } from '../../../src/server/backends/slurm/options.js';

const DEFAULTS = { dataDir: '/var/lib/dstack', stopGraceMs: 10_000 };

async function configFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'dstack-config-')), 'server.yml');
  await writeFile(file, text);
  return file;
}

describe('Slurm backend settings', () => {
  it('has none unless asked for, and takes defaults from the data dir', async () => {
    expect(await slurmFromFlags({}, DEFAULTS)).toBeUndefined();
    expect(await slurmFromFlags({ backend: 'slurm' }, DEFAULTS)).toEqual({
      name: 'slurm',
      paths: { sbatch: 'sbatch', squeue: 'squeue', scancel: 'scancel', sacct: 'sacct', sinfo: 'sinfo' },
      workDir: '/var/lib/dstack/slurm/work',
      workDirSetting: { setting: '--data-dir', value: '/var/lib/dstack' },
      sbatchArgs: [],
      pollMs: 1000,
      queueDepth: 2,
      stopGraceMs: 10_000,
      docker: false,
    });
  });

  it('reads the flags: partition, account, command paths, shared dir, sbatch options', async () => {
    const options = await slurmFromFlags(
      {
        backend: 'slurm',
        slurmPartition: 'gpu',
        slurmAccount: 'ml',
        slurmSbatch: '/opt/slurm/bin/sbatch',
        slurmWorkDir: '/shared/dstack',
        slurmServerUrl: 'http://login1:3000',
        slurmSbatchArgs: '--qos=high  --time=4:00:00',
        slurmPoll: '2',
      },
      DEFAULTS,
    );
    expect(options).toMatchObject({
      partition: 'gpu',
      account: 'ml',
      paths: { sbatch: '/opt/slurm/bin/sbatch', squeue: 'squeue' },
      workDir: '/shared/dstack',
      workDirSetting: { setting: '--slurm-work-dir', value: '/shared/dstack' },
      serverUrl: 'http://login1:3000',
      sbatchArgs: ['--qos=high', '--time=4:00:00'],
      pollMs: 2000,
    });
  });

  it('reads what the nodes can run: a Docker engine, Pythons', async () => {
    const flags = { backend: 'slurm', slurmDocker: true, slurmPython: '3,3.11' };
    expect(await slurmFromFlags(flags, DEFAULTS)).toMatchObject({ docker: true, python: ['3', '3.11'] });
    const file = await configFile('backends:\n  - type: slurm\n    docker: true\n    python: [3.10]\n');
    expect(await slurmFromFlags({ config: file }, DEFAULTS)).toMatchObject({ docker: true, python: ['3.10'] });
    await expect(slurmFromFlags({ backend: 'slurm', slurmPython: '3,py3' }, DEFAULTS)).rejects.toThrow(
      "invalid --slurm-python: expected Python versions like '3' or '3.11'",
    );
    const wrong = await configFile('backends:\n  - type: slurm\n    docker: maybe\n');
    await expect(slurmFromFlags({ config: wrong }, DEFAULTS)).rejects.toThrow('expected true or false');
  });

  it('says which flag is wrong', async () => {
    await expect(slurmFromFlags({ backend: 'pbs' }, DEFAULTS)).rejects.toThrow(
      "invalid --backend 'pbs': the one backend is 'slurm'",
    );
    await expect(slurmFromFlags({ slurmPartition: 'gpu' }, DEFAULTS)).rejects.toThrow(
      '--slurm-partition needs --backend slurm',
    );
    // Not zod's `Invalid input: expected number, received NaN` nor `Too small: expected number to be >0`.
    for (const slurmPoll of ['often', '0', '61'])
      await expect(slurmFromFlags({ backend: 'slurm', slurmPoll }, DEFAULTS)).rejects.toThrow(
        new UsageError('invalid --slurm-poll: expected seconds above 0 and at most 60, like 1 or 0.5'),
      );
    for (const slurmServerUrl of ['login1:3000', 'http://[::1:3000'])
      await expect(slurmFromFlags({ backend: 'slurm', slurmServerUrl }, DEFAULTS)).rejects.toThrow(
        'invalid --slurm-server-url: expected an http:// or https:// URL',
      );
    const unclosed = slurmFromFlags({ backend: 'slurm', slurmSbatchArgs: '--qos=high --comment="my team' }, DEFAULTS);
    await expect(unclosed).rejects.toBeInstanceOf(UsageError);
    await expect(unclosed).rejects.toThrow('invalid --slurm-sbatch-args: the " at character 22 is never closed');
    await expect(slurmFromFlags({ backend: 'slurm', slurmSbatchArgs: `--qos=high ''` }, DEFAULTS)).rejects.toThrow(
      'invalid --slurm-sbatch-args: an sbatch option is empty',
    );
  });

  it('splits --slurm-sbatch-args as a shell would: quotes keep an option with blanks whole', async () => {
    const options = await slurmFromFlags(
      { backend: 'slurm', slurmSbatchArgs: `--comment="my team" --constraint='a b' --mail-user=x\\ y` },
      DEFAULTS,
    );
    expect(options?.sbatchArgs).toEqual(['--comment=my team', '--constraint=a b', '--mail-user=x y']);
  });

  it('refuses sbatch options that dstack sets for every job, saying why, from flags and from the config file', async () => {
    const flags = (slurmSbatchArgs: string) => slurmFromFlags({ backend: 'slurm', slurmSbatchArgs }, DEFAULTS);
    await expect(flags('--qos=normal --requeue')).rejects.toThrow(
      new UsageError(
        "invalid --slurm-sbatch-args: '--requeue' is dstack's to set: dstack decides what runs again: a job Slurm " +
          "ends (a time limit, a preemption) is stopped with its artifacts saved for 'dstack resume', and a batch " +
          'job Slurm requeued would start a runner whose token is spent',
      ),
    );
    await expect(flags('-o /tmp/x.out')).rejects.toThrow(
      "invalid --slurm-sbatch-args: '-o' is dstack's to set: dstack names each batch job, its folder and Slurm's " +
        "output file, which a failed job's reason points to",
    );
    await expect(flags('--array=1-4')).rejects.toThrow(
      "'--array=1-4' is dstack's to set: dstack submits one batch script per job and reads the job id sbatch prints",
    );
    await expect(flags('--nodes=2')).rejects.toThrow(
      "'--nodes=2' is dstack's to set: a dstack job runs as one task on one node (--nodes=1 --ntasks=1)",
    );
    // Others are the admin's: limits, QOS, defaults a job's own resources override.
    expect((await flags('--time=24:00:00 --qos=high --mem=4G -t 10 --exclusive'))?.sbatchArgs).toHaveLength(6);
    const file = await configFile('backends:\n  - type: slurm\n    sbatch-args: [--qos=low, --job-name=x]\n');
    await expect(slurmFromFlags({ config: file }, DEFAULTS)).rejects.toThrow(
      "'--job-name=x' is dstack's to set: dstack names each batch job",
    );
  });

  it("reads a config file's backends: section, flags overriding it", async () => {
    const file = await configFile(
      [
        'backends:',
        '  - type: slurm',
        '    partition: cpu',
        '    work-dir: /shared/dstack',
        '    sbatch-args: [--qos=low]',
        '    queue-depth: 1',
        '    commands:',
        '      sacct: /opt/slurm/bin/sacct',
        '',
      ].join('\n'),
    );
    const options = await slurmFromFlags({ config: file, slurmPartition: 'gpu' }, DEFAULTS);
    expect(options).toMatchObject({
      partition: 'gpu',
      workDir: '/shared/dstack',
      workDirSetting: { setting: `work-dir in ${file}`, value: '/shared/dstack' },
      sbatchArgs: ['--qos=low'],
      queueDepth: 1,
      paths: { sacct: '/opt/slurm/bin/sacct', sbatch: 'sbatch' },
    });
  });

  it('points at the line of a mistake in the config file', async () => {
    const typo = await configFile('backends:\n  - type: slurm\n    partitoin: gpu\n');
    await expect(slurmFromFlags({ config: typo }, DEFAULTS)).rejects.toThrow(
      `${typo}:3:5: backends.0: unknown key 'partitoin'`,
    );
    const shallow = await configFile('backends:\n  - type: slurm\n    queue-depth: 0\n');
    await expect(slurmFromFlags({ config: shallow }, DEFAULTS)).rejects.toThrow(
      `${shallow}:3:18: backends.0.queue-depth: expected a whole number from 1 to 100, like 2`,
    );
    const deep = await configFile('backends:\n  - type: slurm\n    queue-depth: 2.5\n');
    await expect(slurmFromFlags({ config: deep }, DEFAULTS)).rejects.toThrow(
      `${deep}:3:18: backends.0.queue-depth: expected a whole number from 1 to 100, like 2`,
    );
    const other = await configFile('backends:\n  - type: kubernetes\n');
    await expect(slurmFromFlags({ config: other }, DEFAULTS)).rejects.toThrow(`${other}:2:11: backends.0.type: `);
    await expect(slurmFromFlags({ config: '/nonexistent/server.yml' }, DEFAULTS)).rejects.toThrow(
      '/nonexistent/server.yml: cannot read the server config: ENOENT',
    );
  });

  it('refuses a config file that is not UTF-8 at the bad byte, rather than reading it with the byte replaced', async () => {
    const file = await configFile('');
    await writeFile(file, Buffer.from('backends:\n  - type: slurm\n    partition: caf\xe9\n', 'latin1'));
    await expect(slurmFromFlags({ config: file }, DEFAULTS)).rejects.toThrow(
      `${file}:3:19: byte 0xe9 (in Latin-1, 'é') is not UTF-8 text: dstack reads its config files as UTF-8`,
    );
  });

  it("gives batch jobs this machine's hostname, not a wildcard address, unless a server URL is set", () => {
    const at = (host: string) => batchServerUrl(undefined, { host, port: 3900 }, 'login1');
    expect(at('127.0.0.1')).toEqual({ url: 'http://127.0.0.1:3900' });
    expect(at('::1')).toEqual({ url: 'http://[::1]:3900' });
    expect(at('0.0.0.0')).toEqual({
      url: 'http://login1:3900',
      note:
        'the server listens on every address (0.0.0.0): batch jobs reach it at http://login1:3900, ' +
        "this machine's hostname; set --slurm-server-url (server-url) where the compute nodes know it by another name",
    });
    expect(at('::').url).toBe('http://login1:3900');
    expect(batchServerUrl('http://dstack.internal:80', { host: '0.0.0.0', port: 3900 }, 'login1')).toEqual({
      url: 'http://dstack.internal:80',
    });
  });
});
