/**
 * A team server whose runners differ in what they can run: `docker-box` reaches the test Docker
 * engine, `cpu-box` (more CPUs, so first choice by size) has none (DOCKER_HOST at a missing
 * socket), and `later-box` gets one while the test runs. Jobs with an image go only where a
 * Docker engine answers, a resumed one too; while none does, they wait and say why.
 */
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { WORK_ROOT_LABEL } from '../../src/runner/executors/docker/container-spec.js';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { checkpointingWorkflow } from './checkpointing.js';
import { ensureDocker } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

const WORKFLOWS = `workflows:
  - name: evaluate-docker
    image: dstack-test/busybox
    commands: ['echo "evaluated with seed $seed"']
${checkpointingWorkflow('train', 'image: dstack-test/busybox')}`;

describe('runners with and without a Docker engine', () => {
  let server: TeamServer;
  let runners: TeamRunner[];
  let sb: Sandbox;
  let laterSocket: string;
  let engineSocket: string;
  const dstack = (args: string[]) =>
    sb.dstack(args, { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });
  const view = async (name: string) => JSON.parse((await dstack(['status', name, '--json'])).stdout)[0] as RunView;
  const runner = (name: string) => runners.find((r) => r.name === name)!;

  beforeAll(async () => {
    const dockerHost = await ensureDocker();
    engineSocket = dockerHost.replace(/^unix:\/\//, '');
    const sockets = await mkdtemp(join(tmpdir(), 'dstack-sockets-'));
    laterSocket = join(sockets, 'later.sock');
    server = await TeamServer.start(['--runner-timeout', '3']);
    const docker = { DOCKER_HOST: dockerHost, DSTACK_DOCKER_NETWORK: 'none' };
    runners = await Promise.all([
      TeamRunner.start(server, 'docker-box', ['--cpu', '1'], server.url, docker),
      TeamRunner.start(server, 'cpu-box', ['--cpu', '4'], server.url, {
        DOCKER_HOST: `unix://${join(sockets, 'nodocker.sock')}`,
      }),
    ]);
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  evaluate-docker:\n    seed: 1\n',
    });
    const active = async () => (await server.client().runners()).filter((r) => r.status === 'ACTIVE').length;
    await waitUntil(async () => (await active()) === 2);
  }, 15 * 60_000);
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.kill()));
    await server?.kill('SIGTERM');
    // A runner killed outright leaves its containers (the aborted job's) for its next start, which never comes here.
    const engine = new Docker(parseDockerHost(`unix://${engineSocket}`).options);
    for (const r of runners) {
      const left = await engine.listContainers({ all: true, filters: { label: [`${WORK_ROOT_LABEL}=${r.workDir}`] } });
      for (const c of left) await engine.getContainer(c.Id).remove({ force: true });
      await rm(r.workDir, { recursive: true, force: true });
    }
    await sb?.dispose();
    await rm(server.dataDir, { recursive: true, force: true });
    await rm(dirname(laterSocket), { recursive: true, force: true });
  });

  it('lists what each runner told it can run', async () => {
    const listed = await server.client().runners();
    expect(listed.find((r) => r.name === 'docker-box')?.total.docker).toBe(true);
    expect(listed.find((r) => r.name === 'cpu-box')?.total.docker).toBe(false);
  });

  it('gives jobs with an image only to the runner whose Docker engine answers', async () => {
    const names: string[] = [];
    for (const seed of [101, 102, 103, 104])
      names.push((await dstack(['run', 'evaluate-docker', '-d', '--no-cache', '--seed', String(seed)])).stdout.trim());
    expect(names.every((n) => n !== '')).toBe(true);
    const ended = await waitUntil(async () => {
      const views = await Promise.all(names.map(view));
      return views.every((v) => v.status === 'DONE' || v.status === 'FAILED') && views;
    }, 120_000);
    expect(ended.map((v) => [v.status, v.jobs[0]!.runner])).toEqual(names.map(() => ['DONE', 'docker-box']));
    expect((await dstack(['logs', names[3]!])).stdout).toContain('evaluated with seed 104');
  });

  it('resumes a stopped job only where a Docker engine answers; until one does, it waits and says why', async () => {
    const name = (await dstack(['run', 'train', '-d'])).stdout.trim();
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('ready'), 60_000);
    const first = (await view(name)).jobs[0]!;
    expect(first.runner).toBe('docker-box');
    await dstack(['stop', name]);
    await waitUntil(async () => (await view(name)).status === 'STOPPED', 60_000);
    // docker-box shuts down: cpu-box, idle, is the only runner left, and a later one without Docker joins.
    await runner('docker-box').kill('SIGTERM');
    runners.push(await TeamRunner.start(server, 'later-box', [], server.url, { DOCKER_HOST: `unix://${laterSocket}` }));
    await waitUntil(
      async () => (await server.client().runners()).find((r) => r.name === 'later-box')?.status === 'ACTIVE',
    );
    expect((await dstack(['resume', first.id])).code).toBe(0);
    // Each runner is named with why its engine does not answer, and docker-box, which could take
    // it, as away, not left for an admin to guess.
    const missing = (socket: string) => `(none answers at ${socket} (no such socket))`;
    const reason =
      `no online runner has a Docker engine (runners: cpu-box ${missing(join(dirname(laterSocket), 'nodocker.sock'))}, ` +
      `later-box ${missing(laterSocket)}); docker-box (offline since `;
    const waiting = await waitUntil(
      async () => {
        const job = (await view(name)).jobs[0]!;
        return job.reason?.startsWith(reason) && / UTC\) could take it$/.test(job.reason) && job;
      },
      20_000,
      async () => String((await view(name)).jobs[0]!.reason),
    );
    expect(waiting.status).toBe('SUBMITTED');
    expect((await dstack(['status', name])).stdout).toContain(
      'SUBMITTED no online runner has a Docker engine (runners: cpu-box (none answers at',
    );
    // later-box's engine comes up: its heartbeat tells the server, and the job resumes there from its checkpoint.
    await symlink(engineSocket, laterSocket);
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('starting from 1'), 60_000);
    expect((await view(name)).jobs[0]).toMatchObject({ status: 'RUNNING', runner: 'later-box' });
    await dstack(['stop', '--abort', name]);
  });
});
