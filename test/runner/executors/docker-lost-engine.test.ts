/**
 * The docker executor when its connection to the engine is lost (a dockerd restart, a network
 * blip): a real proxy between it and the test engine, cut and restored while a job runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DockerExecutor } from '../../../src/runner/executors/docker-executor.js';
import { parseDockerHost } from '../../../src/runner/executors/docker/engine.js';
import { WORK_ROOT_LABEL } from '../../../src/runner/executors/docker/container-spec.js';
import type { Execution } from '../../../src/runner/executors/executor.js';
import { BUSYBOX, ensureDocker } from '../../e2e/docker-env.js';
import { CuttableProxy } from '../../e2e/team-harness.js';

const label = `/tmp/dstack-lost-engine-test-${process.pid}`;
let engine: Docker;
let proxy: CuttableProxy;
let scripts: string;
let workspace: string;

beforeAll(async () => {
  const host = await ensureDocker();
  const socket = parseDockerHost(host).options.socketPath;
  if (socket === undefined) throw new Error(`these tests need the test engine on a unix socket, not ${host}`);
  engine = new Docker({ socketPath: socket });
  proxy = await CuttableProxy.start(socket);
  scripts = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
  workspace = await mkdtemp(join(tmpdir(), 'dstack-lost-engine-'));
}, 900_000);
afterEach(async () => {
  proxy.up(); // restored if a test left it down
  for (const c of await ours()) await engine.getContainer(c.Id).remove({ force: true });
});
afterAll(async () => {
  proxy.close();
  await rm(scripts, { recursive: true, force: true });
  await rm(workspace, { recursive: true, force: true });
});

/** The containers of these tests' executors. */
const ours = () => engine.listContainers({ all: true, filters: { label: [`${WORK_ROOT_LABEL}=${label}`] } });

const start = async (commands: string[], unansweredKillMs?: number) => {
  const executor = new DockerExecutor({
    host: proxy.url,
    network: 'none',
    scriptDir: scripts,
    labels: { [WORK_ROOT_LABEL]: label },
    ...(unansweredKillMs !== undefined && { unansweredKillMs }),
  });
  const out = { stdout: '', stderr: '' };
  const notes: string[] = [];
  const execution: Execution = await executor.start({
    jobId: `lost-engine-${Math.random().toString(16).slice(2, 10)}`,
    workspace,
    commands,
    env: {},
    image: BUSYBOX,
    onOutput: (stream, chunk) => void (out[stream] += chunk.toString()),
    onNote: (text) => notes.push(text),
  });
  const printed = (text: string) => vi.waitFor(() => expect(out.stdout).toContain(text), { timeout: 20_000 });
  return { execution, out, notes, printed };
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}\n`).join('');

describe('docker executor losing its engine', () => {
  it("goes on reading the job's output from its container's log, no line lost or repeated", async () => {
    const { execution, out, notes, printed } = await start([
      'i=1; while [ $i -le 12 ]; do echo "step $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.5; done',
    ]);
    await printed('step 3');
    proxy.down();
    await pause(3000); // steps printed meanwhile reach no one
    proxy.up();
    const exit = await execution.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(out.stdout).toBe(lines('step', 12));
    expect(out.stderr).toBe(lines('err', 12));
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(`^lost the connection to the Docker engine at ${proxy.url} \\(.+\\): trying again every 2 s$`),
      ),
      `the Docker engine at ${proxy.url} answers again`,
      "the job's output goes on from its container's log, where it was cut off",
    ]);
    expect(await ours()).toEqual([]);
  }, 60_000);

  it('sends a stop the engine did not hear once it answers again, and the job ends', async () => {
    const { execution, out, printed } = await start([
      "trap 'echo got TERM; exit 0' TERM",
      'echo ready',
      'while true; do sleep 0.1; done',
    ]);
    await printed('ready');
    proxy.down();
    execution.terminate();
    await pause(3000);
    proxy.up();
    expect(await execution.exit).toEqual({ code: 0, signal: 'SIGTERM' });
    expect(out.stdout).toBe('ready\ngot TERM\n');
    expect(await ours()).toEqual([]);
  }, 60_000);

  it('ends a killed job all the same when the engine never answers again', async () => {
    const { execution, notes, printed } = await start(['echo ready', 'sleep 300'], 3000);
    await printed('ready');
    proxy.down();
    await vi.waitFor(() => expect(notes.join('\n')).toContain('lost the connection'), { timeout: 20_000 });
    const killed = Date.now();
    execution.kill();
    expect(await execution.exit).toEqual({
      code: null,
      signal: 'SIGKILL',
      reason: `the Docker engine at ${proxy.url} did not answer after the job was killed: its container may still run until the runner starts again`,
    });
    expect(Date.now() - killed).toBeLessThan(15_000);
    // Not "killed": the kill never reached it.
    expect(notes).toContain(
      `the Docker engine at ${proxy.url} does not answer: SIGKILL goes to the job's container once it does, and the job ends in 3 s if it never does`,
    );
  }, 60_000);

  it('says so when the container was removed while the engine did not answer', async () => {
    const { execution, printed } = await start(['echo ready', 'sleep 300']);
    await printed('ready');
    proxy.down();
    const [container] = await ours();
    await engine.getContainer(container!.Id).remove({ force: true });
    proxy.up();
    expect(await execution.exit).toEqual({
      code: null,
      signal: null,
      reason: `its container was removed from the Docker engine at ${proxy.url} outside dstack`,
    });
  }, 60_000);
});
