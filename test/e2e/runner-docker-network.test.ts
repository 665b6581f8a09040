/**
 * A runner whose DSTACK_DOCKER_NETWORK names a network its Docker engine does not have (a typo,
 * or `bridge` on a dockerd started with --bridge=none) takes no job with an image: such a job
 * waits, saying which runner lacks what, where the runner took each one and failed it with
 * `network x not found`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../services/server.js';
import { BUSYBOX, useDockerEnvironment } from './docker-env.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

const NETWORK = 'dstack-test-no-such-network';

describe('a runner whose Docker network is not on its engine', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runners: RunnerProcesses;
  let restore: () => void;

  beforeAll(async () => {
    restore = await useDockerEnvironment({ DSTACK_DOCKER_NETWORK: NETWORK });
    work = await mkdtemp(join(tmpdir(), 'dstack-docker-network-'));
    t = await startTestServer();
    runners = new RunnerProcesses(t, { home: join(work, 'home'), cpu: 1 });
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({
      '.dstack/workflows.yaml': `workflows:\n  - name: boxed\n    image: ${BUSYBOX}\n    commands: [echo hi]\n`,
    });
  }, 900_000);
  afterAll(async () => {
    runners?.killAll();
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
    restore?.();
  });

  it('takes no job with an image, which waits naming the network and the setting', async () => {
    const runner = await runners.start('net-box', join(work, 'net-box'));
    expect(runner.stderr()).toContain(
      `a Docker engine answers, but its engine has no network '${NETWORK}' (DSTACK_DOCKER_NETWORK): create it ` +
        `(docker network create ${NETWORK}), or set DSTACK_DOCKER_NETWORK to host, none or a ` +
        'network the engine has (docker network ls); this runner takes no job with an image until it has that network',
    );
    const submitted = await project.dstack(['run', 'boxed', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const [job] = await t.server.engine.store.jobsOfRuns([submitted.stdout.trim()]);
    const waiting = `no runner has a Docker engine (runners: net-box (its engine has no network '${NETWORK}' (DSTACK_DOCKER_NETWORK)))`;
    await waitUntil(
      async () => (await t.server.engine.store.getJob(job!.id))?.reason === waiting,
      30_000,
      async () => JSON.stringify(await t.server.engine.store.getJob(job!.id)),
    );
    expect((await t.server.engine.store.getJob(job!.id))?.status).toBe('SUBMITTED');
    const listed = await project.dstack(['runners']);
    expect(listed.stdout).toMatch(/^net-box .* no /m);
    expect((await project.dstack(['stop', '--abort', submitted.stdout.trim()])).code).toBe(0);
  }, 120_000);
});
