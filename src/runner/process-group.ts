/**
 * Signalling a job's (or git's) whole process group: what its commands started in the background
 * gets the signal too. The two functions differ only in a group that is there but not ours to
 * signal (EPERM: all that is left of it runs as another user).
 */

/**
 * Send `signal` (0: only look) to process group `group`; whether it was there. A group all of
 * whose processes have ended (ESRCH) is not; any other error is thrown.
 */
export function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * As signalGroup, but a group it may not signal counts as not there, rather than an error: for a
 * pid an earlier process recorded (reused since, perhaps by another user's process), and for a
 * caller with no one to tell of an error.
 */
export function signalGroupIfAllowed(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    return signalGroup(group, signal);
  } catch {
    return false;
  }
}
