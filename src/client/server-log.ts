/** The local server's log file (`DATA_DIR/server.log`), which every start of it appends to. */
import { openSync, renameSync, statSync } from 'node:fs';

/**
 * Past this size a start moves the log to `server.log.1` (replacing the one there) and begins a
 * new one: it grew by a few lines a job for as long as the folder was used (about 850 bytes a
 * job, so 85 MB a 100,000 jobs), and nothing ever removed it.
 */
export const SERVER_LOG_MAX_BYTES = 16 << 20;

/** Open `path` to append, after moving it aside when it is over `maxBytes`; the descriptor. */
export function openServerLog(path: string, maxBytes = SERVER_LOG_MAX_BYTES): number {
  if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > maxBytes) renameSync(path, `${path}.1`);
  return openSync(path, 'a', 0o600);
}
