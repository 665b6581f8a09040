import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spawner, type SpawnRequest } from '../../../src/runner/executors/spawner.js';

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

  it('closes a connection to the output socket that does not name a job in time, or names one it does not know', async () => {
    const strict = new Spawner(200);
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
