/**
 * The session of the runner process that last used a work dir, kept in it: a process
 * restarting after a crash names its dead predecessor's session, and the server lets it take
 * the runner over at once rather than a runner timeout later (docs/decisions.md).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../core/errors.js';
import { explainWrite } from '../files/refused-write.js';
import { isAlive } from '../client/process-alive.js';

const FILE = 'runner-session.json';

/** Record this process's session in `workRoot`. */
export async function writeSessionFile(workRoot: string, session: string): Promise<void> {
  await writeFile(join(workRoot, FILE), JSON.stringify({ pid: process.pid, session }) + '\n').catch((e: unknown) => {
    throw explainWrite(e, workRoot, 'starting the runner');
  });
}

/**
 * What a runner starting on `workRoot` finds of the process that used it before: the session
 * of one that is gone (to take its runner over at once), or undefined. One still running is
 * refused when `exclusive`: starting would end its jobs' processes as a crashed runner's
 * leftovers.
 */
export async function predecessor(workRoot: string, exclusive = true): Promise<string | undefined> {
  const recorded = await readSession(workRoot);
  if (!recorded) return undefined;
  if (!isAlive(recorded.pid)) return recorded.session;
  if (exclusive) {
    throw new ConflictError(
      `another runner process (pid ${recorded.pid}) uses ${workRoot}: stop it first, or give this one another ` +
        `work dir (--work-dir, or its own DSTACK_HOME; if pid ${recorded.pid} is no dstack runner, delete ` +
        `${join(workRoot, FILE)})`,
    );
  }
  return undefined;
}

/** The process and session recorded in `workRoot`, unless it is this process's or none is readable. */
async function readSession(workRoot: string): Promise<{ pid: number; session: string } | undefined> {
  const text = await readFile(join(workRoot, FILE), 'utf8').catch(() => undefined);
  let recorded: unknown;
  try {
    recorded = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined; // torn by the crash: the runner waits out the timeout instead
  }
  const { pid, session } = (recorded ?? {}) as { pid?: unknown; session?: unknown };
  if (typeof pid !== 'number' || typeof session !== 'string' || pid === process.pid) return undefined;
  return { pid, session };
}
