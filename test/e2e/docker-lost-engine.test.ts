/**
 * A runner whose connection to its Docker engine is lost while a job runs (a dockerd restart,
 * a network blip): a proxy between the runner and the test engine, cut and restored. The job's
 * log goes on whole, it ends, and a stop sent meanwhile ends it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDocker } from './docker-env.js';
import { waitUntil } from './harness.js';
import { CuttableProxy, DockerTeam } from './team-harness.js';

const WORKFLOWS = `workflows:
  - name: steps
    image: dstack-test/busybox
    commands: ['i=1; while [ $i -le 10 ]; do echo "step $i"; i=$((i+1)); sleep 1; done']
  - name: forever
    image: dstack-test/busybox
    commands: ['echo ready', 'while true; do sleep 0.2; done']
`;

describe('a runner losing its Docker engine while a job runs', () => {
  let proxy: CuttableProxy;
  let team: DockerTeam;
  const dstack = (args: string[]) => team.dstack(args);
  const view = (name: string) => team.view(name);
  const logs = async (name: string) => (await dstack(['logs', name])).stdout;

  beforeAll(async () => {
    proxy = await CuttableProxy.start((await ensureDocker()).replace(/^unix:\/\//, ''));
    team = await DockerTeam.start(proxy.url, WORKFLOWS);
  }, 15 * 60_000);
  afterAll(async () => {
    await team?.dispose();
    proxy?.close();
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
