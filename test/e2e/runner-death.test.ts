/**
 * A `dstack runner start` process that dies (SIGKILL) with jobs running: its spawner helper
 * ends them as a stop does, containers included (`docker stop` with the runner's grace), host
 * jobs' processes that ignore SIGTERM too (SIGKILL at the grace's end), also
 * when the kill took the runner's whole process group; a runner started again on that work dir
 * removes the stopped containers and takes work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { JOB_LABEL, WORK_ROOT_LABEL } from '../../src/runner/executors/docker/container-spec.js';
import { jobProcesses } from '../services/processes.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { BUSYBOX, useDockerEnvironment } from './docker-env.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

const GRACE_S = 3;

describe('a runner process killed with docker jobs running', () => {
  let restoreEnv: () => void;
  let docker: Docker;
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runners: RunnerProcesses | undefined;

  beforeAll(async () => {
    restoreEnv = await useDockerEnvironment({ DSTACK_STOP_GRACE: String(GRACE_S) });
    docker = new Docker(parseDockerHost(process.env.DOCKER_HOST!).options);
    work = await mkdtemp(join(tmpdir(), 'dstack-runner-death-'));
    t = await startTestServer();
    runners = new RunnerProcesses(t, { home: join(work, 'home'), cpu: 8 });
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    // Each prints "started" once its trap is set; a stop's SIGTERM ends the first with code 7.
    await project.write({
      '.dstack/workflows.yaml': `workflows:
  - name: handles-term
    image: ${BUSYBOX}
    commands:
      - trap 'exit 7' TERM
      - echo started
      - sleep 300 & wait
  - name: ignores-term
    image: ${BUSYBOX}
    commands:
      - trap '' TERM
      - echo started
      - sleep 300
  - name: host
    commands:
      - echo started
      - sleep 300
  - name: host-ignores-term
    commands:
      - sh -c "trap '' TERM; sleep 300" &
      - echo started
      - while true; do sleep 1; done
  - name: hello
    image: ${BUSYBOX}
    commands:
      - echo hello from a container
`,
    });
  }, 900_000);
  afterEach(() => runners?.killAll());
  afterAll(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${WORK_ROOT_LABEL}`] } });
    for (const c of left.filter((c) => c.Labels[WORK_ROOT_LABEL]?.startsWith(work)))
      await docker.getContainer(c.Id).remove({ force: true });
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
    restoreEnv?.();
  });

  /** `dstack runner start` on `workDir`, leading its own process group; its stderr is collected. */
  /** `dstack run WF -d` once its job has printed "started"; its job id. */
  async function started(workflow: string): Promise<string> {
    const submitted = await project.dstack(['run', workflow, '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const [job] = await t.server.engine.store.jobsOfRuns([submitted.stdout.trim()]);
    await waitUntil(async () => (await project.dstack(['logs', job!.id])).stdout.includes('started'), 60_000);
    return job!.id;
  }

  const containerOf = async (jobId: string) => {
    const [found] = await docker.listContainers({ all: true, filters: { label: [`${JOB_LABEL}=${jobId}`] } });
    return found && (await docker.getContainer(found.Id).inspect());
  };
  /** Once the job's container has stopped: its exit code, and when it was seen stopped. */
  const stoppedContainer = (jobId: string, timeoutMs: number) =>
    waitUntil(async () => {
      const info = await containerOf(jobId);
      return info && !info.State.Running ? { code: info.State.ExitCode, at: Date.now() } : undefined;
    }, timeoutMs);

  it('killed alone, its helper stops the containers as a stop does: SIGTERM, then SIGKILL after the grace', async () => {
    const workDir = join(work, 'alone');
    const runner = await runners!.start('alone', workDir);
    const [handles, ignores] = [await started('handles-term'), await started('ignores-term')];
    expect((await containerOf(handles))?.State.Running).toBe(true);

    runner.child.kill('SIGKILL');
    const killed = Date.now();
    const [first, second] = await Promise.all([
      stoppedContainer(handles, (GRACE_S + 10) * 1000),
      stoppedContainer(ignores, (GRACE_S + 10) * 1000),
    ]);
    expect(first.code).toBe(7); // its trap ran: SIGTERM came first
    expect(first.at - killed).toBeLessThan(GRACE_S * 1000);
    expect(second.code).toBe(137); // SIGKILL, after the grace
    expect(second.at - killed).toBeGreaterThanOrEqual(GRACE_S * 1000);

    // Started again on that work dir: it removes what is left of them, and runs a container job.
    const again = await runners!.start('alone', workDir);
    expect(again.stderr()).toContain('removed 2 containers a previous runner left');
    expect(again.stderr()).not.toMatch(/ ERROR /);
    expect(await containerOf(handles)).toBeUndefined();
    expect(await containerOf(ignores)).toBeUndefined();
    const hello = await project.dstack(['run', 'hello']);
    expect(hello.code, hello.stderr).toBe(0);
    expect(hello.stdout).toContain('hello from a container');
    expect(again.stderr()).not.toMatch(/ ERROR /);
  }, 120_000);

  it("killed alone, it kills at the grace's end a host job's processes that ignore SIGTERM, once the job's shell has ended at it", async () => {
    const runner = await runners!.start('host', join(work, 'host'));
    const job = await started('host-ignores-term');
    await waitUntil(async () => jobProcesses(job).length >= 3); // bash, sh and its sleep, bash's sleep

    try {
      runner.child.kill('SIGKILL');
      const killed = Date.now();
      // The shell ends at SIGTERM (its trap); sh and its sleep ignore it, until the SIGKILL.
      await waitUntil(async () => jobProcesses(job).length === 2, GRACE_S * 1000);
      await waitUntil(async () => jobProcesses(job).length === 0, (GRACE_S + 5) * 1000);
      expect(Date.now() - killed).toBeGreaterThanOrEqual(GRACE_S * 1000);
    } finally {
      for (const pid of jobProcesses(job)) process.kill(pid, 'SIGKILL'); // a failure leaves none running
    }
  }, 120_000);

  it('killed with its whole process group, helper included, its containers and host jobs end all the same', async () => {
    const runner = await runners!.start('group', join(work, 'group'));
    const [container, host] = [await started('handles-term'), await started('host')];
    expect(jobProcesses(host)).not.toEqual([]);

    process.kill(-runner.child.pid!, 'SIGKILL');
    const { code } = await stoppedContainer(container, (GRACE_S + 10) * 1000);
    expect(code).toBe(7);
    await waitUntil(async () => jobProcesses(host).length === 0, (GRACE_S + 5) * 1000);
  }, 120_000);
});
