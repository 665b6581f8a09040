import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predecessor, writeSessionFile } from '../../src/runner/session-file.js';

describe('the session file of a runner work dir', () => {
  it("names a dead process's session, never a running one's, its own, or a torn file's", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-session-'));
    expect(await predecessor(dir, false)).toBeUndefined();
    await writeSessionFile(dir, 'mine');
    expect(await predecessor(dir, false)).toBeUndefined(); // this process
    const child = spawn('sleep', ['30']);
    await writeFile(join(dir, 'runner-session.json'), JSON.stringify({ pid: child.pid, session: 'other' }));
    expect(await predecessor(dir, false)).toBeUndefined(); // still running
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await predecessor(dir, false)).toBe('other');
    await writeFile(join(dir, 'runner-session.json'), '{"pid": 1');
    expect(await predecessor(dir, false)).toBeUndefined();
  });

  it('refuses a work dir a live runner process uses, and takes one whose process is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-session-'));
    expect(await predecessor(dir)).toBeUndefined(); // none recorded
    await writeSessionFile(dir, 'mine');
    expect(await predecessor(dir)).toBeUndefined(); // this process
    const child = spawn('sleep', ['30']);
    await writeFile(join(dir, 'runner-session.json'), JSON.stringify({ pid: child.pid, session: 'other' }));
    await expect(predecessor(dir)).rejects.toThrow(
      `another runner process (pid ${child.pid}) uses ${dir}: stop it first, or give this one another work dir ` +
        `(--work-dir, or its own DSTACK_HOME; if pid ${child.pid} is no dstack runner, delete ` +
        `${join(dir, 'runner-session.json')})`,
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await predecessor(dir)).toBe('other');
  });

  it('takes a work dir whose runner was killed but not yet reaped (a zombie: its parent never waits)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-session-'));
    // The shell starts a short sleep, prints its pid, then becomes a sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30']);
    const pid = Number(
      await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await writeFile(join(dir, 'runner-session.json'), JSON.stringify({ pid, session: 'killed' }));
    try {
      expect(await predecessor(dir)).toBe('killed');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
