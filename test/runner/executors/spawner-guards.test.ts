/**
 * The spawner's helper guards what it did not start: it stops the containers it was told of,
 * and ends the process groups a one-shot runner started itself, once the process that started
 * it is gone. The Docker engine here is a stand-in on a unix socket that records what it is
 * asked (the real engine's part is in test/e2e/runner-death.test.ts): the helper is under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { jobProcesses } from '../../services/processes.js';

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('a spawner whose process dies with containers watched', () => {
  let dir: string;
  let engine: Server;
  let socketPath: string;
  let asked: string[] = [];
  const parents: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-spawner-containers-'));
    socketPath = join(dir, 'docker.sock');
    engine = createServer((request, response) => {
      asked.push(`${request.method} ${request.url}`);
      response.statusCode = 204;
      response.end();
    });
    await new Promise<void>((resolve) => engine.listen(socketPath, resolve));
  });
  afterEach(() => {
    for (const child of parents.splice(0)) child.kill('SIGKILL');
    asked = [];
  });
  afterAll(async () => {
    engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A process (as a runner is) whose spawner (2 s grace) watches containers `kept` and
   * `released`, then stops watching `released`; with `killHelper`, its first helper is then
   * killed and it waits for the next one. It prints its helper's pid once ready.
   */
  function parent(killHelper: boolean) {
    const script = [
      "const { Spawner } = await import('./src/runner/executors/spawner.ts');",
      'const spawner = new Spawner({ stopGraceMs: 2000 });',
      `const engine = { socketPath: ${JSON.stringify(socketPath)} };`,
      "await spawner.guardContainer(engine, 'kept');",
      "(await spawner.guardContainer(engine, 'released'))();",
      'const first = spawner.helperPid;',
      `if (${killHelper}) {`,
      "  process.kill(first, 'SIGKILL');",
      '  while (spawner.helperPid === undefined || spawner.helperPid === first) await new Promise((r) => setTimeout(r, 50));',
      '  await new Promise((r) => setTimeout(r, 200));', // the new helper has read what it was told
      '}',
      "console.log('ready', spawner.helperPid);",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    parents.push(child);
    const helper = new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const pid = /ready (\d+)/.exec(d.toString())?.[1];
        if (pid) resolve(Number(pid));
      });
      child.once('exit', (code) => reject(new Error(`exited (${code}) before it was ready`)));
    });
    return { child, helper };
  }

  it('asks the engine to stop each container still watched, with the grace, then exits', async () => {
    const p = parent(false);
    const helper = await p.helper;
    expect(asked).toEqual([]);
    p.child.kill('SIGKILL');
    await vi.waitFor(() => expect(alive(helper)).toBe(false), { timeout: 5000, interval: 100 });
    expect(asked).toEqual(['POST /containers/kept/stop?t=2&signal=SIGTERM']);
  });

  it('tells a helper started after one died of the containers watched', async () => {
    const p = parent(true);
    const helper = await p.helper;
    p.child.kill('SIGKILL');
    await vi.waitFor(() => expect(alive(helper)).toBe(false), { timeout: 5000, interval: 100 });
    expect(asked).toEqual(['POST /containers/kept/stop?t=2&signal=SIGTERM']);
  });

  it("ends the process group of a job a one-shot runner's executor started itself, as a stop does", async () => {
    const marker = `guarded-${randomBytes(6).toString('hex')}`;
    const termed = join(dir, `${marker}.term`);
    const script = [
      "const { ProcessExecutor } = await import('./src/runner/executors/process-executor.ts');",
      `const executor = new ProcessExecutor(${JSON.stringify(dir)}, { guard: true, stopGraceMs: 1000 });`,
      `await executor.start({ jobId: 'j', workspace: ${JSON.stringify(dir)}, onOutput: () => {},`,
      `  commands: [${JSON.stringify(`trap 'touch ${termed}; exit 143' TERM`)}, 'sleep 120 & wait'],`,
      `  env: { PATH: process.env.PATH, DSTACK_JOB_ID: ${JSON.stringify(marker)} } });`,
      "console.log('ready');",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    parents.push(child);
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.includes('ready') && resolve()));
    try {
      await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(2)); // bash and sleep
      await new Promise((resolve) => setTimeout(resolve, 500)); // the helper starts beside the job
      child.kill('SIGKILL');
      await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
      expect(existsSync(termed)).toBe(true);
    } finally {
      for (const pid of jobProcesses(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});
