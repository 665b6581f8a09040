/**
 * A job that met a full disk (its download, its pid file, its log's spool, a laptop's server
 * refusing its output with 507): what it held must not wedge it. The space is mostly the job's
 * own workspace, which is normally removed only after the job's end is reported, and that
 * report (its last output first) is what waits for space. Once nothing reads the workspace
 * again (the commands have ended, the artifacts are saved or could not be), it is removed in
 * place when the disk is full or nearly so, and what waited goes through; the runner then has
 * room for its next job. A disk with room keeps the usual order, so that a runner that crashes
 * before the job's end is reported still finds its workspace (leftover-job.ts).
 */
import { statfsSync } from 'node:fs';
import { DstackError } from '../core/errors.js';
import { isDiskFull } from '../files/refused-write.js';
import { rm } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { Execution } from './executors/executor.js';
import { recordPid, workspacePath } from './workspace.js';

/**
 * The reason of a job that failed in the runner with `e`: a user's problem (no such image, no
 * such Python) or one a step explained (the disk holding X is full while saving artifacts) as
 * it is; a full disk no step explained, the runner's owner's to free; anything else is ours.
 */
export function failureReason(e: unknown, workRoot: string): string {
  if (e instanceof DstackError) return e.message;
  if (isDiskFull(e)) return `the runner's disk is full (work dir ${workRoot})`;
  return `runner error: ${(e as Error).message}`;
}

/** Less room than this left on the work dir's disk counts as full, bytes. */
const NEARLY_FULL_BYTES = 1 << 20;

export class JobDisk {
  private full = false;
  private ended = false;
  private freed = false;
  /** The early removal, once started: the job's end waits for it, so that the next job finds the room. */
  removal: Promise<void> = Promise.resolve();

  constructor(
    private readonly workRoot: string,
    private readonly jobId: string,
    /** Said when the workspace is removed early (the job's log). */
    private readonly note: (text: string) => void,
  ) {}

  /** `e` happened to the job: was it a full disk? After the job's commands ended, that frees its workspace. */
  noticed(e: unknown): void {
    if (!isDiskFull(e)) return;
    this.full = true;
    if (this.ended) this.free();
  }

  /**
   * Record the started job's pid for a runner restarted after a crash. A job whose pid cannot be
   * recorded is ended (thrown) rather than left where a restarted runner cannot find it, but for a
   * full disk: a job that fills the disk in its first moments would be ended or not by a race with
   * this write. It runs on; should the runner die, the spawner's helper still ends it, and only a
   * restarted runner does not take it up.
   */
  recordPid(execution: Execution, logger: Logger): void {
    try {
      recordPid(this.workRoot, this.jobId, execution.pid);
    } catch (e) {
      this.noticed(e);
      if (!isDiskFull(e)) {
        execution.kill();
        throw e;
      }
      const why = `its pid file could not be written (${(e as Error).message})`;
      logger.warn(`job ${this.jobId}: ${why}; it runs on, but a runner restarted after a crash will not take it up`);
    }
  }

  /** Nothing reads the workspace again: freed now when the disk is full (or nearly). */
  done(): void {
    this.ended = true;
    if (this.full || nearlyFull(this.workRoot)) this.free();
  }

  /** Before the job's end is reported: done, and the removal finished. */
  async freeBeforeEnd(): Promise<void> {
    this.done();
    await this.removal;
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.note("the disk is full: removing this job's workspace now, to make room for its log and its end");
    // The workspace only: the spool and the pid file stay until the end is reported, so that a
    // runner killed meanwhile still sends the job's last lines and takes the job up again.
    this.removal = rm(workspacePath(this.workRoot, this.jobId), { recursive: true, force: true }).catch(() => {});
  }
}

function nearlyFull(path: string): boolean {
  try {
    const { bavail, bsize } = statfsSync(path);
    return bavail * bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}
