/** The docker executor: the conformance suite in a busybox container, and what only containers do. */
import { lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DockerExecutor } from '../../../src/runner/executors/docker-executor.js';
import { parseDockerHost } from '../../../src/runner/executors/docker/engine.js';
import { WORK_ROOT_LABEL } from '../../../src/runner/executors/docker/container-spec.js';
import { cleanDockerLeftovers } from '../../../src/runner/executors/docker/leftovers.js';
import type { Owner } from '../../../src/runner/executors/docker/ownership.js';
import type { ExecutionRequest } from '../../../src/runner/executors/executor.js';
import { BUSYBOX, PYTHON, busyboxVariant, ensureDocker } from '../../e2e/docker-env.js';
import { executorConformance } from './executor-conformance.js';

let host: string;
let scripts: string;
const label = `/tmp/dstack-executor-test-${process.pid}`;
const executor = (owner?: Owner) =>
  new DockerExecutor({
    host,
    network: 'none',
    scriptDir: scripts,
    labels: { [WORK_ROOT_LABEL]: label },
    ...(owner && { owner }),
  });
/** The containers of these tests' executors (labelled with their work dir). */
const containers = async () =>
  new Docker(parseDockerHost(host).options).listContainers({
    all: true,
    filters: { label: [`${WORK_ROOT_LABEL}=${label}`] },
  });
/** A user that is not the test's (root): the files of jobs are given back to it as to a runner that is not root. */
const RUNNER_USER: Owner = { uid: 54321, gid: 54322 };

beforeAll(async () => {
  host = await ensureDocker();
  scripts = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
}, 900_000);
afterAll(() => rm(scripts, { recursive: true, force: true }));

executorConformance({ name: 'docker', executor: async () => executor(), extra: () => ({ image: BUSYBOX }) });
// Giving files back puts a shell of dstack's before the job's: exit codes, signals and output must be as without it.
executorConformance({
  name: 'docker giving files back',
  executor: async () => executor(RUNNER_USER),
  extra: () => ({ image: BUSYBOX }),
});

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
  it('applies the cpu limit, and ends a job over its memory limit with reason "out of memory", naming the limit', async () => {
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
    expect(oom.exit.reason).toBe('out of memory: over its limit of 64MB from resources.memory');
    expect(oom.output).not.toMatch(/^survived$/m);
  });

  it("limits a job asking for more CPUs than the engine's machine has to all it has, saying so", async () => {
    const cores = ((await new Docker(parseDockerHost(host).options).info()) as { NCPU: number }).NCPU;
    const r = await run({
      commands: ['cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max'],
      resources: { cpu: 64, memory: 0, gpu: 0 },
    });
    expect(r.exit.code).toBe(0);
    expect(r.output.trim()).toBe(String(cores * 100_000));
    expect(r.notes).toEqual([
      `the job asks for 64 CPUs, and the Docker engine's machine has ${cores}: its container is limited to ${cores}`,
    ]);
  });

  it('says an image has no /bin/sh, where tini could only say it exited 127', async () => {
    const image = await busyboxVariant('no-sh', { setup: 'rm /bin/sh' });
    const r = await run({ image, commands: ['true'] });
    expect(r.exit).toMatchObject({
      code: 127,
      reason: `image '${image}' has no /bin/sh, which dstack runs a job's commands with: use an image with a shell`,
    });
    expect(r.output).toMatch(/^\[FATAL tini \(\d+\)\] exec \/bin\/sh failed/); // in the job's log as ever
    // A job's own 127 keeps its exit code as the reason.
    expect((await run({ commands: ['exit 127'] })).exit.reason).toBeUndefined();
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

  it("says which image it cannot pull, with the engine's words alone", async () => {
    const image = '127.0.0.1:1/dstack-test/missing:1';
    // Not dockerode's `(HTTP code 500) server error - ` before them, nor the space after.
    await expect(run({ image, commands: ['true'] })).rejects.toThrow(
      new RegExp(
        `^image '${image.replace(/[.]/g, '\\.')}' is not on this runner and pulling it failed: ` +
          'Get "http://127\\.0\\.0\\.1:1/v2/": dial tcp 127\\.0\\.0\\.1:1: connect: connection refused$',
      ),
    );
  });

  it('says which image it cannot make a container of, and which setting names a missing network', async () => {
    const odd = new DockerExecutor({ host, network: 'dstack-no-such-network', scriptDir: scripts });
    await expect(
      odd.start({ jobId: 'x', workspace, commands: ['true'], env: {}, image: BUSYBOX, onOutput: () => {} }),
    ).rejects.toThrow(
      /^cannot (create|start) a container of image 'dstack-test\/busybox:latest': .*dstack-no-such-network.* \(DSTACK_DOCKER_NETWORK=dstack-no-such-network: set it to host, none, bridge or a network this engine has\)$/,
    );
    expect(await readdir(scripts)).toEqual([]);
  });

  it("notes in the job's log a network that gives the container only loopback", async () => {
    // The test engine runs with --bridge=none: `bridge` gives a container no interface there.
    const bridged = new DockerExecutor({
      host,
      network: 'bridge',
      scriptDir: scripts,
      labels: { [WORK_ROOT_LABEL]: label },
    });
    const notes: string[] = [];
    const execution = await bridged.start({
      jobId: 'bridged',
      workspace,
      commands: ['sleep 1'],
      env: {},
      image: BUSYBOX,
      onOutput: () => {},
      onNote: (text) => notes.push(text),
    });
    expect((await execution.exit).code).toBe(0);
    expect(notes).toEqual([
      'the container has no network but loopback: this engine gives DSTACK_DOCKER_NETWORK=bridge no interface ' +
        '(a dockerd started with --bridge=none?); set it to host, or to a network the engine has',
    ]);
    expect((await run({ commands: ['sleep 1'] })).notes).toEqual([]); // `none` asks for loopback only
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
    expect(await cleanDockerLeftovers(docker, label)).toEqual(['leftover1']);
    expect(await containers()).toEqual([]);
  });
});

describe('docker executor giving files back to a runner that is not root', () => {
  let workspace: string;
  let mount: string;
  beforeEach(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'dstack-docker-owned-'));
    mount = await mkdtemp(join(tmpdir(), 'dstack-docker-mount-'));
  });
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
    await rm(mount, { recursive: true, force: true });
  });

  /** Files a job makes as root: a folder 0700 in the workspace, and one in an absolute artifact path. */
  const MAKE_FILES = [
    'mkdir -p out/sub /opt/env/bin',
    'echo x > out/sub/f',
    'chmod 700 out/sub',
    'ln -s sub/f out/link',
    'echo tool > /opt/env/bin/tool',
  ];
  const start = async (commands: string[]) => {
    let output = '';
    const execution = await executor(RUNNER_USER).start({
      jobId: `docker-owned-${Math.random().toString(16).slice(2, 10)}`,
      workspace,
      commands,
      env: {},
      image: BUSYBOX,
      mounts: [{ host: mount, container: '/opt/env' }],
      onOutput: (_stream, chunk) => void (output += chunk.toString()),
    });
    const ready = () => vi.waitFor(() => expect(output).toContain('ready'), { timeout: 20_000 });
    return { execution, ready, output: () => output };
  };
  /** The owners (uid:gid) of everything under the job's folders, links themselves included. */
  const owners = async () => {
    const found = new Set<string>();
    for (const root of [workspace, mount]) {
      for (const name of await readdir(root, { recursive: true })) {
        const info = await lstat(join(root, name));
        found.add(`${info.uid}:${info.gid}`);
      }
    }
    return found;
  };
  const mine = `${RUNNER_USER.uid}:${RUNNER_USER.gid}`;

  it("gives the job's files to the runner's user when its commands end, keeping their exit code", async () => {
    const { execution, output } = await start([...MAKE_FILES, 'echo done', 'exit 3']);
    expect((await execution.exit).code).toBe(3);
    expect(output()).toBe('done\n'); // nothing of the giving back in the job's log
    expect(await owners()).toEqual(new Set([mine]));
    expect((await stat(join(workspace, 'out', 'sub'))).mode & 0o777).toBe(0o700);
    expect(await readdir(scripts)).toEqual([]);
  });

  it("gives them after a stop's SIGTERM, once the job's handler has finished", async () => {
    const { execution, ready } = await start([
      ...MAKE_FILES,
      `sh -c 'trap "sleep 1; echo saved > out/state; exit 0" TERM; echo ready; while true; do sleep 0.1; done'`,
    ]);
    await ready();
    execution.terminate();
    expect((await execution.exit).code).toBe(143);
    expect(await readFile(join(workspace, 'out', 'state'), 'utf8')).toBe('saved\n');
    expect(await owners()).toEqual(new Set([mine]));
  });

  it('gives them from another container when the job was killed before it could, and leaves no container', async () => {
    const { execution, ready } = await start([...MAKE_FILES, 'echo ready', 'sleep 300']);
    await ready();
    execution.kill();
    const exit = await execution.exit;
    expect(exit.code === null || exit.code === 137).toBe(true);
    expect(await owners()).toEqual(new Set([mine]));
    expect(await containers()).toEqual([]);
    expect(await readdir(scripts)).toEqual([]);
  });

  it('gives them from another container when the job ended the entry script itself, whatever it claimed', async () => {
    // A job is root in its container: it can end the shell that would give its files back,
    // after writing where a mark of "given back" once lay. What counts is who owns the files.
    const claim = 'mkdir -p /.dstack && echo ok > /.dstack/owned';
    const { execution } = await start([...MAKE_FILES, claim, 'kill -9 $PPID', 'sleep 300']);
    await execution.exit;
    expect(await owners()).toEqual(new Set([mine]));
    expect(await containers()).toEqual([]);
  });
});
