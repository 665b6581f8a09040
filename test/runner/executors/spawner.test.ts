import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Spawner, type SpawnRequest } from '../../../src/runner/executors/spawner.js';
import { jobProcesses } from '../../services/processes.js';

/** Running, not a zombie (the job's parent, the helper, is gone: nobody may have reaped it yet). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('spawner', () => {
  let dir: string;
  const spawner = new Spawner();
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-spawner-'));
  });
  afterAll(async () => {
    spawner.close();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (script: string, out: Record<'stdout' | 'stderr', Buffer[]>, cwd = dir): SpawnRequest => ({
    file: 'bash',
    args: ['-e', join(dir, `s${n}.sh`)],
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    scriptFile: { path: join(dir, `s${n++}.sh`), content: script },
    onOutput: (stream, chunk) => void out[stream].push(chunk),
  });

  it('passes every byte of a large output in order, and the exit code', async () => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const { exit } = await spawner.spawn(request('seq 1 200000\necho done >&2\nexit 3\n', out));
    expect(await exit).toEqual({ code: 3, signal: null });
    const lines = Buffer.concat(out.stdout).toString().split('\n');
    expect(lines.length).toBe(200001);
    expect(lines[0]).toBe('1');
    expect(lines[199999]).toBe('200000');
    expect(lines.every((l, i) => i === 200000 || l === String(i + 1))).toBe(true);
    expect(Buffer.concat(out.stderr).toString()).toBe('done\n');
  });

  it('rejects a start that fails with the reason', async () => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    await expect(spawner.spawn(request('true\n', out, join(dir, 'missing')))).rejects.toThrow(
      /starting the job failed: .*ENOENT/,
    );
  });

  it('fails a running job when the helper dies, ends its group, and starts a new helper for the next job', async () => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const { pid, exit } = await spawner.spawn(request('echo started\nsleep 30 &\nwait\n', out));
    const helper = spawner.helperPid!;
    // Killed once the job is surely running (it has written), not while bash is still starting.
    while (Buffer.concat(out.stdout).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    process.kill(helper, 'SIGKILL');
    const result = await exit;
    expect(result.code).toBeNull();
    expect(result.reason).toMatch(/the job spawner process ended \(SIGKILL\); the job was killed/);
    expect(Buffer.concat(out.stdout).toString()).toBe('started\n');
    // SIGKILL is acted on when the process is next scheduled: on a busy machine, a moment later.
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alive(pid)).toBe(false);

    const next = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const again = await spawner.spawn(request('echo again\n', next));
    expect(await again.exit).toEqual({ code: 0, signal: null });
    expect(Buffer.concat(next.stdout).toString()).toBe('again\n');
    expect(spawner.helperPid).not.toBe(helper);
  });

  it("survives a SIGTERM sent to every process (a service manager's, Slurm's), leaving its jobs to the runner", async () => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const { pid, exit } = await spawner.spawn(request('echo started\nsleep 30\n', out));
    const helper = spawner.helperPid!;
    process.kill(helper, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([alive(helper), alive(pid)]).toEqual([true, true]);
    spawner.signal({ pid }, 'SIGTERM'); // the runner's stop
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(spawner.helperPid).toBe(helper);
  });

  it('closes a connection to the output socket that does not name a job in time, or names one it does not know', async () => {
    const strict = new Spawner({ headTimeoutMs: 200 });
    try {
      await (
        await strict.spawn(request('true\n', { stdout: [], stderr: [] }))
      ).exit;
      const closed = (line?: string) =>
        new Promise<number>((resolve, reject) => {
          const at = Date.now();
          const socket = connect(strict.outputSocket, () => line && socket.write(line));
          socket.on('error', reject);
          socket.on('data', () => reject(new Error('the socket answered')));
          socket.on('close', () => resolve(Date.now() - at));
        });
      expect(await closed(`${'0'.repeat(32)} 1\n`)).toBeLessThan(200);
      expect(await closed()).toBeGreaterThanOrEqual(150);
    } finally {
      strict.close();
    }
  });
});

describe("the spawner helper's environment", () => {
  it('holds no DSTACK_ setting or token, which a job could read from /proc/$PPID/environ', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-spawner-env-'));
    const saved = process.env.DSTACK_TOKEN;
    process.env.DSTACK_TOKEN = 'dst_secret-runner-token';
    const spawner = new Spawner();
    try {
      const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
      const { exit } = await spawner.spawn({
        file: 'bash',
        args: ['-c', "tr '\\0' '\\n' < /proc/$PPID/environ | grep -c '^DSTACK_' || true"],
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        onOutput: (stream, chunk) => void out[stream].push(chunk),
      });
      expect(await exit).toEqual({ code: 0, signal: null });
      expect(Buffer.concat(out.stdout).toString()).toBe('0\n');
    } finally {
      spawner.close();
      if (saved === undefined) delete process.env.DSTACK_TOKEN;
      else process.env.DSTACK_TOKEN = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a spawner whose process dies', () => {
  /**
   * A process (as a runner is) that starts each of `jobs` (bash commands) through a spawner
   * with a stop grace of `graceMs` (1 s by default), their processes marked by DSTACK_JOB_ID=`marker`, and prints
   * "started" once they have. It leads its own process group, as a runner in a terminal's
   * foreground does, and shuts down on SIGINT as a runner does: not at once.
   */
  function parent(dir: string, marker: string, jobs: string[], graceMs = 1000) {
    const script = [
      "const { Spawner } = await import('./src/runner/executors/spawner.ts');",
      `const spawner = new Spawner({ stopGraceMs: ${graceMs} });`,
      `for (const commands of ${JSON.stringify(jobs)})`,
      `  await spawner.spawn({ file: 'bash', args: ['-c', commands], cwd: ${JSON.stringify(dir)},`,
      `    env: { PATH: process.env.PATH, DSTACK_JOB_ID: ${JSON.stringify(marker)} }, onOutput: () => {} });`,
      "process.on('SIGINT', () => {});",
      "console.log('started');",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    parents.push(child);
    const started = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
      child.once('exit', (code) => reject(new Error(`exited (${code}) before starting its job`)));
    });
    return { child, started };
  }

  let dir: string;
  const markers: string[] = [];
  const parents: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-spawner-orphans-'));
  });
  afterEach(() => {
    // A failed test's processes are not left running.
    for (const child of parents.splice(0)) child.kill('SIGKILL');
    for (const pid of markers.splice(0).flatMap(jobProcesses)) process.kill(pid, 'SIGKILL');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const newMarker = () => {
    markers.push(`orphan-${randomBytes(6).toString('hex')}`);
    return markers.at(-1)!;
  };

  it("ends its jobs' processes as a stop does: SIGTERM first, for the job to handle", async () => {
    const marker = newMarker();
    const termed = join(dir, `${marker}.term`);
    // A quiet job: it writes nothing a closed output could end it by.
    const p = parent(dir, marker, [`trap 'touch ${termed}; exit 143' TERM; sleep 120 & wait`]);
    await p.started;
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(2)); // bash and sleep
    p.child.kill('SIGKILL');
    await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
    expect(existsSync(termed)).toBe(true);
  });

  it('kills what is still running after the grace, also once another job has ended at SIGTERM', async () => {
    const marker = newMarker();
    // The first one's sleep ignores SIGTERM too; the second one's bash and sleep end at it.
    const p = parent(dir, marker, [`trap '' TERM; sleep 120; echo late`, 'sleep 120; echo late']);
    await p.started;
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(4));
    p.child.kill('SIGKILL');
    const killed = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(jobProcesses(marker)).toHaveLength(2); // within its grace
    await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
    expect(Date.now() - killed).toBeGreaterThanOrEqual(1000);
  });

  it("kills at the grace's end what ignores SIGTERM, also once the job's shell has ended at it", async () => {
    const marker = newMarker();
    // The shell ends at SIGTERM; what it started in the background ignores it. A grace longer
    // than the 2 s that what a job leaves behind gets while its runner lives (LEFTOVER_GRACE_MS).
    const graceMs = 3500;
    const job = `sh -c "trap '' TERM; sleep 120" & trap 'exit 143' TERM; while true; do sleep 1; done`;
    const p = parent(dir, marker, [job], graceMs);
    await p.started;
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(4)); // bash, sh, and two sleeps
    p.child.kill('SIGKILL');
    const killed = Date.now();
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(2), { timeout: 2000, interval: 50 }); // sh, sleep 120
    await new Promise((resolve) => setTimeout(resolve, graceMs - 500 - (Date.now() - killed)));
    expect(jobProcesses(marker)).toHaveLength(2); // within its grace
    await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
    expect(Date.now() - killed).toBeGreaterThanOrEqual(graceMs);
  });

  it("leaves its jobs to the runner at a Ctrl-C to the terminal's group", async () => {
    const marker = newMarker();
    const p = parent(dir, marker, ['sleep 120; echo late']);
    await p.started;
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(2));
    process.kill(-p.child.pid!, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(jobProcesses(marker)).toHaveLength(2); // for the runner's drain to stop
    p.child.kill('SIGKILL');
    await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
  });

  it("ends its jobs when a closed terminal's hangup kills it", async () => {
    const marker = newMarker();
    const p = parent(dir, marker, ['sleep 120; echo late']);
    await p.started;
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(2));
    process.kill(-p.child.pid!, 'SIGHUP');
    await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
  });

  it('ends its jobs when a kill of its whole process group takes it: the helper is out of that group', async () => {
    const marker = newMarker();
    const p = parent(dir, marker, ['sleep 120; echo late']);
    await p.started;
    await vi.waitFor(() => expect(jobProcesses(marker)).toHaveLength(2));
    process.kill(-p.child.pid!, 'SIGKILL');
    await vi.waitFor(() => expect(jobProcesses(marker)).toEqual([]), { timeout: 5000, interval: 100 });
  });
});
