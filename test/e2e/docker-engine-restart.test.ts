/**
 * A runner's Docker engine restarted while a job runs (`systemctl restart docker`): the engine
 * stops the job's container as it shuts down. That is no failure of the job's: it ends STOPPED,
 * its checkpoint saved, as a runner's shutdown stops it, and `dstack resume` goes on from it.
 * So does a `docker stop` of its container; a job that exits 143 by itself still fails. The engine is one of the test's own (OwnDockerd).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_LABEL } from '../../src/runner/executors/docker/container-spec.js';
import { OwnDockerd } from '../services/own-dockerd.js';
import { waitUntil } from './harness.js';
import { DockerTeam } from './team-harness.js';

// Writes checkpoint/epoch before it says so; a resumed job says where it goes on from and ends.
const WORKFLOWS = `workflows:
  - name: train
    image: dstack-test/busybox
    commands:
      - mkdir -p checkpoint
      - |
        if [ -f checkpoint/epoch ]; then echo "resuming from epoch $(cat checkpoint/epoch)"; exit 0; fi
        n=0
        while true; do n=$((n + 1)); echo $n > checkpoint/epoch; echo "epoch $n"; sleep 0.2; done
    artifacts: [checkpoint]
  - name: sigterm-itself
    image: dstack-test/busybox
    commands: ['echo ready', 'exit 143']
`;

describe("a runner's Docker engine restarted while a job runs", () => {
  let engine: OwnDockerd;
  let team: DockerTeam;
  const dstack = (args: string[]) => team.dstack(args);
  const view = (name: string) => team.view(name);
  const job = async (name: string) => (await view(name)).jobs[0]!;
  const seen = (name: string) => async () =>
    `${JSON.stringify(await job(name))}\n${(await dstack(['logs', name])).stdout.slice(-3000)}\n${team.runner.output}`;

  beforeAll(async () => {
    engine = await OwnDockerd.start();
    team = await DockerTeam.start(engine.host, WORKFLOWS);
  }, 15 * 60_000);
  afterAll(async () => {
    await team?.dispose();
    await engine?.dispose();
  });

  it('stops the job with its checkpoint saved, and dstack resume goes on from it', async () => {
    const name = (await dstack(['run', 'train', '-d'])).stdout.trim();
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('epoch 5'), 60_000);
    await engine.stop();
    await engine.startAgain();
    await waitUntil(async () => (await view(name)).status === 'STOPPED', 90_000, seen(name));
    expect((await job(name)).reason).toBe(
      `stopped: its Docker engine shut down, stopping its container; its artifacts were saved (dstack resume ${name})`,
    );
    // The job's notes go to stderr, its output to stdout.
    expect((await dstack(['logs', name])).stderr).toContain(
      'its Docker engine shut down, stopping its container: the job is stopped',
    );
    const out = join(team.sb.root, 'downloaded');
    const downloaded = await dstack(['artifacts', (await job(name)).id, '-o', out]);
    expect(downloaded.code, downloaded.stderr).toBe(0);
    const saved = Number(await readFile(join(out, 'checkpoint', 'epoch'), 'utf8'));
    expect(saved).toBeGreaterThanOrEqual(5);

    const resumed = await dstack(['resume', name]);
    expect(resumed.code, resumed.stderr).toBe(0);
    await waitUntil(async () => (await view(name)).status === 'DONE', 90_000);
    expect((await dstack(['logs', name])).stdout).toContain(`resuming from epoch ${saved}`);
  }, 240_000);

  it('stops a job whose container was stopped outside dstack (docker stop)', async () => {
    const name = (await dstack(['run', 'train', '--no-cache', '-d'])).stdout.trim();
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('epoch 2'), 60_000);
    const docker = engine.client();
    const [container] = await docker.listContainers({ filters: { label: [`${JOB_LABEL}=${(await job(name)).id}`] } });
    await docker.getContainer(container!.Id).stop();
    await waitUntil(async () => (await view(name)).status === 'STOPPED', 60_000, seen(name));
    expect((await job(name)).reason).toBe(
      `stopped: its container was stopped outside dstack (docker stop or docker kill); its artifacts were saved (dstack resume ${name})`,
    );
  }, 120_000);

  it('fails a job that exits 143 by itself, its engine running', async () => {
    const name = (await dstack(['run', 'sigterm-itself', '-d'])).stdout.trim();
    await waitUntil(async () => ['FAILED', 'STOPPED'].includes((await view(name)).status), 60_000);
    expect(await job(name)).toMatchObject({ status: 'FAILED', reason: 'exit code 143' });
  }, 120_000);
});
