/**
 * A job's live processes, found by the DSTACK_JOB_ID in their environment (every process the
 * job starts inherits it), read from /proc: no `ps`, and no reliance on a job's command line,
 * which names no file since commands go to bash as `-c`.
 */
import { readdirSync, readFileSync } from 'node:fs';

export function jobProcesses(jobId: string): number[] {
  const wanted = `DSTACK_JOB_ID=${jobId}`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false; // a zombie has ended
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(wanted);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    })
    .map(Number);
}
