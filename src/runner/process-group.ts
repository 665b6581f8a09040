/**
 * Signalling a job's (or git's) whole process group: what its commands started in the background
 * gets the signal too.
 */

/**
 * Send `signal` (0: only look) to process group `group`; whether it was there to signal. A group
 * whose processes have all ended (ESRCH) is not, nor one left to processes of another user (EPERM:
 * a pid recorded by an earlier runner and reused since, or what a job started with `sudo` in the
 * background under a non-root runner): those are not ours to end. Never throws: callers run in
 * timers and abort listeners, where an error would end the runner.
 */
export function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}
