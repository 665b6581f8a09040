/**
 * The Slurm backend beside remote runners, on the real single-node Slurm of scripts/slurm.sh:
 * Slurm tells what its nodes can run (no Docker engine by default, the server's Pythons), takes
 * beyond its free nodes only jobs no other runner could run, and a job no runner fits fails
 * saying why no runner, not only Slurm, can run it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, RunView } from '../../src/core/records.js';
import { ensureSlurm, skipSlurm, slurm } from '../services/slurm.js';
import { BUSYBOX, ensureDocker } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';
import { DstackServer } from './slurm-harness.js';
import { TeamRunner } from './team-harness.js';

const WORKFLOWS = (nodeCpus: number) => `workflows:
  - name: img
    image: ${BUSYBOX}
    commands:
      - echo in a container
  - name: py39
    provider: python
    version: "3.9"
    file: main.py
  - name: big
    resources:
      cpu: ${nodeCpus}
    commands:
      - sleep 60
  - name: small
    resources:
      cpu: 1
    commands:
      - echo small
  - name: gpu-mem
    resources:
      gpu: 2
      memory: 3GB
    commands:
      - echo never
  - name: mem
    resources:
      memory: 100GB
    commands:
      - echo never
`;

describe.skipIf(skipSlurm)('Slurm beside remote runners', () => {
  let sb: Sandbox;
  let server: DstackServer;
  const runners: TeamRunner[] = [];
  let nodeCpus = 0;
  const onServer = (args: string[]) => sb.dstack(args, { env: server.env() });
  const jobOf = async (name: string): Promise<JobRecord> => {
    const r = await onServer(['status', name, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as RunView[])[0]!.jobs[0]!;
  };
  const detached = async (workflow: string) => {
    const r = await onServer(['run', workflow, '-d', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  const ended = (name: string, timeoutMs = 60_000) =>
    waitUntil(
      async () => {
        const job = await jobOf(name);
        return ['DONE', 'FAILED', 'STOPPED', 'ABORTED'].includes(job.status) && job;
      },
      timeoutMs,
      async () => server.output + runners.map((r) => r.output).join('\n'),
    );
  const runner = async (name: string, resources: string[], env: Record<string, string>) => {
    const added = await onServer(['runners', 'add', name]);
    const token = /DSTACK_TOKEN=(\S+)/.exec(added.stdout)?.[1];
    if (!token) throw new Error(added.stdout + added.stderr);
    runners.push(await TeamRunner.launch(name, `dstack-runner-${name}-`, server.url, token, resources, env));
  };

  beforeAll(async () => {
    await ensureSlurm();
    const dockerHost = await ensureDocker();
    nodeCpus = Number((await slurm('sinfo', ['-h', '-N', '-o', '%c'])).trim());
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS(nodeCpus), 'main.py': 'print("hi")\n' });
    server = await DstackServer.create();
    await server.start('slurm');
    // One CPU each: the node's whole CPUs are a job only Slurm can run.
    await runner('cpu-box', ['--cpu', '1', '--memory', '2GB', '--gpus', '2'], { DOCKER_HOST: 'unix:///nonexistent' });
    await runner('docker-box', ['--cpu', '1', '--memory', '8GB', '--gpus', '0'], {
      DOCKER_HOST: dockerHost,
      DSTACK_DOCKER_NETWORK: 'none',
    });
    // Each registered, and has told its Pythons (a runner that has not yet is offered any python job).
    await waitUntil(async () => {
      const list = (await onServer(['runners'])).stdout;
      return list.match(/ACTIVE/g)?.length === 3 && !/ \? /.test(list);
    }, 30_000);
  }, 300_000);
  afterAll(async () => {
    for (const r of runners) await r.kill();
    await server?.stop();
    await sb?.dispose();
  });

  it('lists what Slurm can run and its partition as it is; jobs with an image go to the Docker runner', async () => {
    const mem = Number((await slurm('sinfo', ['-h', '-N', '-o', '%m'])).trim()) * 2 ** 20;
    const list = (await onServer(['runners'])).stdout;
    const row = list.split('\n').find((l) => l.startsWith('slurm '));
    // The partition's CPUs, not two rounds of them (the queue is the claim's, not a size).
    expect(row).toMatch(new RegExp(`^slurm +slurm +${nodeCpus}/${nodeCpus} `));
    const { formatSize } = await import('../../src/core/resources.js');
    expect(row).toContain(formatSize(mem));
    expect(row).toMatch(/ no /); // no Docker engine
    const names = await Promise.all([1, 2, 3].map(() => detached('img')));
    for (const name of names) expect(await ended(name)).toMatchObject({ status: 'DONE', runner: 'docker-box' });
  });

  it('keeps a python job for a version no runner has waiting, saying so, instead of failing it on Slurm', async () => {
    const name = await detached('py39');
    const job = await waitUntil(
      async () => {
        const j = await jobOf(name);
        return j.reason?.startsWith('no runner') && j;
      },
      20_000,
      async () => JSON.stringify(await jobOf(name)) + (await onServer(['runners'])).stdout,
    );
    expect(job).toMatchObject({
      status: 'SUBMITTED',
      reason: 'no runner has Python 3.9 (runners: cpu-box, docker-box, slurm)',
    });
    expect((await onServer(['stop', name, '--abort'])).code).toBe(0);
  });

  it('queues in Slurm only what no other runner could run: a small job goes to an idle runner', async () => {
    const first = await detached('big');
    await waitUntil(async () => (await jobOf(first)).status === 'RUNNING', 60_000);
    // Only Slurm can run it: it waits in Slurm's queue, ready to start when the first ends.
    const second = await detached('big');
    await waitUntil(async () => /^slurm \d+: PENDING/.test((await jobOf(second)).reason ?? ''), 30_000);
    const smalls = [await detached('small'), await detached('small')];
    for (const name of smalls) {
      const job = await ended(name);
      expect(job.status).toBe('DONE');
      expect(['cpu-box', 'docker-box']).toContain(job.runner);
    }
    for (const name of [first, second]) expect((await onServer(['stop', name, '--abort'])).code).toBe(0);
  });

  it('fails a job no runner fits saying why no runner can, in the numbers dstack runners shows', async () => {
    expect(await ended(await detached('gpu-mem'), 30_000)).toMatchObject({
      status: 'FAILED',
      reason: 'no runner has what it needs (cpu-box: 3.0GB of memory; docker-box: 2 GPUs; slurm: 2 GPUs)',
    });
    const mem = await ended(await detached('mem'), 30_000);
    expect(mem).toMatchObject({ status: 'FAILED', reason: 'no runner has 100GB of memory' });
  });
});
