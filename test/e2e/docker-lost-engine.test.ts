/**
 * A runner whose connection to its Docker engine is lost while a job runs (a dockerd restart,
 * a network blip): a proxy between the runner and the test engine, cut and restored. The job's
 * log goes on whole, it ends, and a stop sent meanwhile ends it.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { ensureDocker } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';
import { CuttableProxy, TeamRunner, TeamServer } from './team-harness.js';

const WORKFLOWS = `workflows:
  - name: steps
    image: dstack-test/busybox
    commands: ['i=1; while [ $i -le 10 ]; do echo "step $i"; i=$((i+1)); sleep 1; done']
  - name: forever
    image: dstack-test/busybox
    commands: ['echo ready', 'while true; do sleep 0.2; done']
`;

describe('a runner losing its Docker engine while a job runs', () => {
  let server: TeamServer;
  let runner: TeamRunner;
  let proxy: CuttableProxy;
  let sb: Sandbox;
  const dstack = (args: string[]) =>
    sb.dstack(args, { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });
  const view = async (name: string) => JSON.parse((await dstack(['status', name, '--json'])).stdout)[0] as RunView;
  const logs = async (name: string) => (await dstack(['logs', name])).stdout;

  beforeAll(async () => {
    proxy = await CuttableProxy.start((await ensureDocker()).replace(/^unix:\/\//, ''));
    server = await TeamServer.start();
    runner = await TeamRunner.start(server, 'box', ['--cpu', '2'], server.url, {
      DOCKER_HOST: proxy.url,
      DSTACK_DOCKER_NETWORK: 'none',
    });
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    await waitUntil(async () => (await server.client().runners())[0]?.status === 'ACTIVE');
  }, 15 * 60_000);
  afterAll(async () => {
    await runner?.kill('SIGTERM');
    await server?.kill('SIGTERM');
    proxy?.close();
    await sb?.dispose();
    for (const dir of [runner.workDir, server.dataDir]) await rm(dir, { recursive: true, force: true });
  });

  it("keeps every line of the job's log, once, and ends the job", async () => {
    const name = (await dstack(['run', 'steps', '-d'])).stdout.trim();
    await waitUntil(async () => (await logs(name)).includes('step 3'), 60_000);
    proxy.down();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    proxy.up();
    await waitUntil(async () => (await view(name)).status === 'DONE', 60_000);
    const steps = (await logs(name)).split('\n').filter((line) => line.startsWith('step '));
    expect(steps).toEqual(Array.from({ length: 10 }, (_, i) => `step ${i + 1}`));
    // Said when the container still runs once the engine answers again: 10 s of steps outlast the cut.
    expect((await dstack(['logs', name])).stderr).toContain(
      "the job's output goes on from its container's log, where it was cut off",
    );
  }, 120_000);

  it('ends a job stopped while the engine did not answer', async () => {
    const name = (await dstack(['run', 'forever', '-d'])).stdout.trim();
    await waitUntil(async () => (await logs(name)).includes('ready'), 60_000);
    proxy.down();
    await dstack(['stop', name]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    proxy.up();
    await waitUntil(async () => (await view(name)).status === 'STOPPED', 60_000);
  }, 120_000);
});
