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
      `another runner process (pid ${child.pid}) uses ${dir}: stop it first, or give this one its own DSTACK_HOME ` +
        `(if pid ${child.pid} is no dstack runner, delete ${join(dir, 'runner-session.json')})`,
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await predecessor(dir)).toBe('other');
  });
});
