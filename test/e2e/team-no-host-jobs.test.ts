/**
 * `dstack runner start --no-host-jobs`: a runner among users who do not trust each other runs
 * only jobs in containers. A host job waits, saying why, and runs on a runner without the flag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

describe('a runner started with --no-host-jobs', () => {
  let server: TeamServer;
  const runners: TeamRunner[] = [];
  let sb: Sandbox;
  const dstack = (args: string[]) =>
    sb.dstack(args, { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });

  beforeAll(async () => {
    server = await TeamServer.start();
    // No Docker engine either (a socket that is not there): it can run no job at all, and says so.
    const noDocker = { DOCKER_HOST: 'unix:///nonexistent/dstack-test-docker.sock' };
    runners.push(
      await TeamRunner.start(server, 'r1', ['--cpu', '1', '--gpus', '0', '--no-host-jobs'], server.url, noDocker),
    );
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: host\n    commands: [echo on-the-host]\n' });
    await waitUntil(async () => (await server.client().runners()).some((r) => r.status === 'ACTIVE'));
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.kill()));
    await server.kill('SIGTERM');
  });

  it('is given no host job, which waits saying why, then runs on a runner without the flag', async () => {
    const name = (await dstack(['run', 'host', '-d'])).stdout.trim();
    const job = async () => (JSON.parse((await dstack(['status', name, '--json'])).stdout) as RunView[])[0]!.jobs[0]!;
    const waiting = await waitUntil(async () => {
      const j = await job();
      return j.reason === 'no runner has host jobs enabled (runners: r1)' && j;
    });
    expect(waiting.status).toBe('SUBMITTED');
    expect(runners[0]!.output).toContain(
      'WARN [runner:r1] no Docker engine: none answers at /nonexistent/dstack-test-docker.sock (no such socket): ' +
        'start dockerd, or set DOCKER_HOST to its socket; started with --no-host-jobs, this runner runs no job at ' +
        'all until one answers',
    );
    // On loopback, only this machine reaches the server: no warning either way.
    expect(runners[0]!.output).not.toContain('of every user of this server run here');

    runners.push(await TeamRunner.start(server, 'r2', ['--cpu', '1', '--gpus', '0']));
    const done = await waitUntil(async () => {
      const j = await job();
      return j.status === 'DONE' && j;
    });
    expect(done.runner).toBe('r2');
    expect((await dstack(['logs', name])).stdout).toContain('on-the-host');
  });

  it('is listed by runner start --help', async () => {
    const help = (await sb.dstack(['runner', 'start', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      "--no-host-jobs run only jobs in containers (with an 'image:'), not jobs on this machine as this user, " +
        "who could read this runner's token: for users who do not trust each other",
    );
  });
});
