/** Whether a process is still running: the local server's, a runner's, a lock's owner. */
import { readFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * A process that has exited but that its parent has not reaped: still signalable, but gone.
 * A background server's parent is whatever adopted it (init, a container's first process),
 * and some never reap. Linux only (/proc); elsewhere nothing is taken for one.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
