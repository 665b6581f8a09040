/**
 * Signalling a process group, with real groups: one there, one gone, and one another user's
 * process may not signal (EPERM), which must not throw: callers run in timers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { signalGroup } from '../../src/runner/process-group.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A `sleep` leading a process group of its own, as the executors start jobs. */
function group(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  return child as ChildProcess & { pid: number };
}

describe('signalling a process group', () => {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) child.kill('SIGKILL');
  });

  it('says a group is there, and signals it', async () => {
    const leader = group();
    started.push(leader);
    expect(signalGroup(leader.pid, 0)).toBe(true);
    const exited = once(leader, 'exit');
    expect(signalGroup(leader.pid, 'SIGTERM')).toBe(true);
    expect((await exited)[1]).toBe('SIGTERM');
  });

  it('says a group whose processes have all ended is not there', async () => {
    const leader = group();
    leader.kill('SIGKILL');
    await once(leader, 'exit');
    expect(signalGroup(leader.pid, 'SIGKILL')).toBe(false);
  });

  it("counts a group it may not signal (another user's processes) as not there, without throwing", async () => {
    if (process.getuid?.() !== 0)
      throw new Error('this test starts a process as nobody: run the tests as root, as .ci/run does');
    const leader = group();
    started.push(leader);
    // As `nobody`, the root-owned group is there but not to be signalled: EPERM.
    const script =
      `const m = await import(${JSON.stringify(`${REPO}/src/runner/process-group.ts`)});` +
      `let thrown; let there; try { there = m.signalGroup(${leader.pid}, 'SIGKILL'); } catch (e) { thrown = e.code; }` +
      `console.log(JSON.stringify({ thrown, there }));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      uid: 65534,
      gid: 65534,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await once(child, 'exit');
    expect(JSON.parse(out)).toEqual({ there: false });
    expect(signalGroup(leader.pid, 0)).toBe(true); // still there: only not nobody's to signal
  }, 30_000);
});
