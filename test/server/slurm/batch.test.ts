/** A dstack job as sbatch options and a batch script. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchSubmission, type BatchOptions } from '../../../src/server/backends/slurm/batch.js';
import { makeJob, makeRun, makeSpec } from '../../store/fixtures.js';

// The folder of one submission (attemptDir): a resumed job's next one is another.
const DIR = '/shared/dstack/jobs/0123456789ab/1795000000000';
const OPTIONS: BatchOptions = {
  serverUrl: 'http://login1:3000',
  dstackCommand: '/usr/bin/node /opt/dstack/dist/cli/main.js',
  squeue: '/opt/slurm/bin/squeue',
  extraArgs: ['--qos=high'],
};

const run = makeRun('calm-owl-1');

describe('Slurm batch submissions', () => {
  it("maps the job's resources, name and output file to sbatch options", () => {
    const job = makeJob(run, 'train', {
      id: '0123456789ab',
      spec: makeSpec('train', { resources: { cpu: 2, memory: 8e9, gpu: 1 } }),
    });
    const { args } = batchSubmission(job, DIR, { ...OPTIONS, partition: 'gpu', account: 'ml' });
    expect(args).toEqual([
      '--partition=gpu',
      '--account=ml',
      '--qos=high',
      '--job-name=dstack-train-0123456789ab',
      '--output=/shared/dstack/jobs/0123456789ab/1795000000000/slurm-%j.out',
      '--chdir=/shared/dstack/jobs/0123456789ab/1795000000000',
      '--nodes=1',
      '--ntasks=1',
      '--no-requeue',
      '--cpus-per-task=2',
      '--mem=7630M',
      '--gres=gpu:1',
    ]);
  });

  it("puts the admin's extra options before the job's own, which sbatch takes over them (the last given wins)", () => {
    const job = makeJob(run, 'train', { spec: makeSpec('train', { resources: { cpu: 2, memory: 8e9, gpu: 0 } }) });
    const { args } = batchSubmission(job, DIR, { ...OPTIONS, extraArgs: ['--mem=4G', '--time=1:00:00'] });
    expect(args.indexOf('--mem=7630M')).toBeGreaterThan(args.indexOf('--mem=4G'));
    // A job that asks for no memory gets the admin's default.
    const small = makeJob(run, 'train', { spec: makeSpec('train', { resources: { cpu: 1, memory: 0, gpu: 0 } }) });
    const defaults = batchSubmission(small, DIR, { ...OPTIONS, extraArgs: ['--mem=4G'] }).args;
    expect(defaults.filter((a) => a.startsWith('--mem'))).toEqual(['--mem=4G']);
  });

  it('asks for a gres type when the job named a GPU the cluster lists by type', () => {
    const job = makeJob(run, 'train', {
      spec: makeSpec('train', { resources: { cpu: 0.5, memory: 0, gpu: 2, gpuName: 'A100' } }),
      gpus: [
        { index: 0, name: 'a100', memory: 0 },
        { index: 1, name: 'a100', memory: 0 },
      ],
    });
    const { args } = batchSubmission(job, DIR, OPTIONS);
    expect(args).toContain('--gres=gpu:a100:2');
    expect(args).toContain('--cpus-per-task=1');
    expect(args.some((a) => a.startsWith('--mem'))).toBe(false); // the cluster's default applies
  });

  it("runs dstack runner exec with the token in a file, never on the command line, and the server's squeue", () => {
    const job = makeJob(run, 'train', { id: '0123456789ab' });
    const { script } = batchSubmission(job, DIR, OPTIONS);
    const lines = script.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      '#!/bin/bash',
      '# dstack job 0123456789ab: train of run calm-owl-1, submitted by the dstack server.',
      '# The runner prepares the workspace, runs the commands, and sends logs, artifacts and status back.',
    ]);
    expect(lines.slice(-2)).toEqual([
      'exec /usr/bin/node /opt/dstack/dist/cli/main.js runner exec --job 0123456789ab --server http://login1:3000 ' +
        '--token-file /shared/dstack/jobs/0123456789ab/1795000000000/token ' +
        '--work-dir /shared/dstack/jobs/0123456789ab/1795000000000/work --squeue /opt/slurm/bin/squeue',
      '',
    ]);
    expect(script).not.toMatch(/dst_/);
  });

  // What the runner's environment holds, by running the script with a command that prints it.
  const runnerSees = (env: Record<string, string>): string => {
    const printEnv = `sh -c 'echo "\${DSTACK_DEFERRED_CA_CERTS-unset} \${NODE_EXTRA_CA_CERTS-unset}"; exit 0' sh`;
    const { script } = batchSubmission(makeJob(run, 'train'), DIR, { ...OPTIONS, dstackCommand: printEnv });
    const { PATH } = process.env;
    return execFileSync('bash', ['-c', script], { env: { PATH, ...env }, encoding: 'utf8' }).trim();
  };

  it("moves NODE_EXTRA_CA_CERTS aside for the runner's start, which puts it back (src/cli/deferred-ca.ts)", () => {
    expect(runnerSees({ NODE_EXTRA_CA_CERTS: '/etc/ca.pem' })).toBe('/etc/ca.pem unset');
    expect(runnerSees({})).toBe('unset unset');
  });

  it('leaves NODE_EXTRA_CA_CERTS to Node where NODE_OPTIONS picks another CA store', () => {
    const env = { NODE_EXTRA_CA_CERTS: '/etc/ca.pem', NODE_OPTIONS: '--max-old-space-size=4096 --use-openssl-ca' };
    expect(runnerSees(env)).toBe('unset /etc/ca.pem');
  });

  it('keeps a workflow name with a line break in its comment line: the API takes any name, and bash runs no part of it', () => {
    const job = makeJob(run, 'train', { id: '0123456789ab', workflow: 'x\ntouch injected\n#' });
    const printArgs = `sh -c 'echo "$@"' sh`;
    const { script } = batchSubmission(job, DIR, { ...OPTIONS, dstackCommand: printArgs });
    expect(script.split('\n')[1]).toBe(
      '# dstack job 0123456789ab: x\\ntouch injected\\n# of run calm-owl-1, submitted by the dstack server.',
    );
    const cwd = mkdtempSync(join(tmpdir(), 'dstack-batch-'));
    const out = execFileSync('bash', ['-c', script], { cwd, env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(out).toMatch(/^runner exec --job 0123456789ab /);
    expect(existsSync(join(cwd, 'injected'))).toBe(false);
  });
});
