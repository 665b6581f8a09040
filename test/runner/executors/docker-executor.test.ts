/** The docker executor: the conformance suite in a busybox container, and what only containers do. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../../src/runner/executors/docker-executor.js';
import { parseDockerHost } from '../../../src/runner/executors/docker/engine.js';
import { WORK_ROOT_LABEL } from '../../../src/runner/executors/docker/container-spec.js';
import { cleanDockerLeftovers } from '../../../src/runner/executors/docker/leftovers.js';
import type { ExecutionRequest } from '../../../src/runner/executors/executor.js';
import { BUSYBOX, PYTHON, ensureDocker } from '../../e2e/docker-env.js';
import { executorConformance } from './executor-conformance.js';

let host: string;
let scripts: string;
const label = `/tmp/dstack-executor-test-${process.pid}`;
const executor = () =>
  new DockerExecutor({ host, network: 'none', scriptDir: scripts, labels: { [WORK_ROOT_LABEL]: label } });

beforeAll(async () => {
  host = await ensureDocker();
  scripts = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
}, 900_000);
afterAll(() => rm(scripts, { recursive: true, force: true }));

executorConformance({ name: 'docker', executor: async () => executor(), extra: () => ({ image: BUSYBOX }) });

describe('docker executor', () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'dstack-docker-'));
  });
  afterAll(() => rm(workspace, { recursive: true, force: true }));

  const run = async (fields: Partial<ExecutionRequest>) => {
    let output = '';
    const notes: string[] = [];
    const execution = await executor().start({
      jobId: `docker-test-${Math.random().toString(16).slice(2, 10)}`,
      workspace,
      commands: [],
      env: {},
      image: BUSYBOX,
      onOutput: (_stream, chunk) => void (output += chunk.toString()),
      onNote: (text) => notes.push(text),
      ...fields,
    });
    const exit = await execution.exit;
    return { exit, output, notes };
  };
  const containers = async () =>
    new Docker(parseDockerHost(host).options).listContainers({
      all: true,
      filters: { label: [`${WORK_ROOT_LABEL}=${label}`] },
    });

  it('applies the cpu limit, and ends a job over its memory limit with reason "out of memory"', async () => {
    const cpu = await run({
      commands: ['cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max'],
      resources: { cpu: 1, memory: 0, gpu: 0 },
    });
    expect(cpu.output.trim()).toBe('100000');
    const oom = await run({
      image: PYTHON,
      commands: ["python3 -c \"x = b'x' * (300 << 20); print('survived')\""],
      resources: { cpu: 1, memory: 64e6, gpu: 0 },
    });
    expect(oom.exit.code).not.toBe(0);
    expect(oom.exit.reason).toBe('out of memory');
    expect(oom.output).not.toMatch(/^survived$/m);
  });

  it('mounts extra folders, and leaves no container or command script behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-mount-'));
    const r = await run({
      commands: ['echo kept > /opt/env/f', 'cat /opt/env/f'],
      mounts: [{ host: dir, container: '/opt/env' }],
    });
    expect(r.output).toBe('kept\n');
    expect(await containers()).toEqual([]);
    // The script held the commands with their variables' values (a token passed as one, say).
    expect(await readdir(scripts)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('says which image it cannot pull', async () => {
    const image = '127.0.0.1:1/dstack-test/missing:1';
    await expect(run({ image, commands: ['true'] })).rejects.toThrow(
      new RegExp(`^image '${image.replace(/[.]/g, '\\.')}' is not on this runner and pulling it failed: .+`),
    );
  });

  it('says which image it cannot make a container of', async () => {
    const odd = new DockerExecutor({ host, network: 'dstack-no-such-network', scriptDir: scripts });
    await expect(
      odd.start({ jobId: 'x', workspace, commands: ['true'], env: {}, image: BUSYBOX, onOutput: () => {} }),
    ).rejects.toThrow(
      /^cannot (create|start) a container of image 'dstack-test\/busybox:latest': .*dstack-no-such-network/,
    );
    expect(await readdir(scripts)).toEqual([]);
  });

  it('says which socket it cannot reach', async () => {
    const bad = new DockerExecutor({ host: 'unix:///nonexistent/docker.sock', network: 'none', scriptDir: scripts });
    await expect(
      bad.start({ jobId: 'x', workspace, commands: ['true'], env: {}, image: BUSYBOX, onOutput: () => {} }),
    ).rejects.toThrow(
      'cannot reach the Docker engine at /nonexistent/docker.sock (no such socket): start dockerd, or set DOCKER_HOST to its socket',
    );
  });

  it('removes the containers a crashed runner left, found by its work dir label', async () => {
    const docker = new Docker(parseDockerHost(host).options);
    const left = await docker.createContainer({
      Image: BUSYBOX,
      Cmd: ['sleep', '300'],
      Labels: { [WORK_ROOT_LABEL]: label, 'dstack.job': 'leftover1' },
      HostConfig: { NetworkMode: 'none' },
    });
    await left.start();
    expect(await cleanDockerLeftovers(host, label)).toEqual(['leftover1']);
    expect(await containers()).toEqual([]);
  });
});
