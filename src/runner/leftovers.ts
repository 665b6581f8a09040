/**
 * Jobs a previous process of this runner left on its work dir: it crashed or was killed (or
 * its server was, for the server's own runner). A job whose commands had started (its `pid`
 * file is there) and whose workspace is there is kept: its processes are ended as a stop ends
 * them, and the runner then saves its artifacts and stops it (leftover-job.ts), so that
 * `dstack resume` goes on from its checkpoint. Any other is ended and removed: the server
 * fails it at the runner's register (`runner restarted`, core/job-status.ts).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { signalGroup } from './process-group.js';
import type { Trash } from './trash.js';
import { pidPath, spoolPath, workspacePath } from './workspace.js';

export interface Leftovers {
  /** Ended and removed. */
  ended: string[];
  /** Ended, their folders kept for their artifacts to be saved. */
  kept: string[];
}

export interface LeftoverOptions {
  /** Sends the log lines a job's spool still holds (the crash kept them from the server). */
  resend: (jobId: string, spool: string) => Promise<void>;
  trash: Trash;
  /** How long a kept job's processes have after SIGTERM, as a stop gives them, ms. */
  graceMs: number;
}

export async function sortLeftovers(workRoot: string, options: LeftoverOptions): Promise<Leftovers> {
  const dir = join(workRoot, 'jobs');
  const found: Leftovers = { ended: [], kept: [] };
  for (const id of await readdir(dir).catch(() => [] as string[])) {
    // A spool that cannot be sent now is left for the save to send (it must not be cut).
    await options.resend(id, spoolPath(workRoot, id)).catch(() => {});
    const pid = await readFile(pidPath(workRoot, id), 'utf8').catch(() => undefined);
    const group = Number(pid);
    const workspace = await stat(workspacePath(workRoot, id)).catch(() => undefined);
    if (pid !== undefined && workspace?.isDirectory()) {
      // Its files must be final before they are saved; usually the spawner's helper has ended it already.
      if (group > 0) await endGroup(group, options.graceMs);
      found.kept.push(id);
      continue;
    }
    if (group > 0) signalGroup(group, 'SIGKILL');
    // Into the trash, which says what it cannot remove, rather than an error that stops the runner's start.
    await options.trash.discard(join(dir, id));
    found.ended.push(id);
  }
  return found;
}

/** SIGTERM, then SIGKILL once `graceMs` have passed; resolves once the group is gone (or a few seconds after the SIGKILL). */
async function endGroup(group: number, graceMs: number): Promise<void> {
  // A recorded pid: another user's process may have it now, and is not ours to end.
  if (!signalGroup(group, 'SIGTERM')) return;
  const gone = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!signalGroup(group, 0)) return true;
    }
    return false;
  };
  if (await gone(graceMs)) return;
  signalGroup(group, 'SIGKILL');
  await gone(5_000);
}
