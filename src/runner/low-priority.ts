/** Housekeeping commands (the trash's `rm`, the virtualenv cache's `du`) in processes of their own, at the lowest CPU priority. */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

/** What a command says about a failure, kept: its first line names what it could not do. */
const STDERR_KEPT = 4096;

/**
 * Run `command` at the lowest CPU priority: housekeeping can wait, the jobs and commands of the
 * moment cannot. Undefined when it could not be started (no such command here); else whether it
 * succeeded, and the first line of its complaints.
 */
export function runLowPriority(
  command: string,
  args: readonly string[],
): Promise<{ ok: boolean; complaint: string; output: string } | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    let stdout = '';
    const end = (result: { ok: boolean; complaint: string; output: string } | undefined) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.toString();
    });
    // The first few KB, as for stderr: enough for du's one line.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdout.length < STDERR_KEPT) stdout += chunk.toString();
    });
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 19);
      } catch {
        // not allowed here: it runs at the runner's priority
      }
    }
    child.once('error', () => end(undefined));
    child.once('close', (code) => end({ ok: code === 0, complaint: stderr.split('\n')[0] ?? '', output: stdout }));
  });
}
