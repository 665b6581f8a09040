/**
 * A job that filled the disk (a laptop's, under the local server): its output and its end wait
 * for space, the runner's spool and the server's log store being on that disk too, while the
 * space is held by the job's own workspace, which is only removed after its end is reported.
 * Once a job's commands have ended and its artifacts are saved (or could not be), nothing
 * reads its workspace again: on a full disk it is removed then, and what waited goes through.
 * A disk with room keeps the usual order, so that a runner that crashes before the job's end
 * is reported still finds its workspace (leftover-job.ts).
 */
import { rm } from 'node:fs/promises';
import { isDiskFull } from '../files/refused-write.js';

export class FullDiskRoom {
  private full = false;
  private finished: string | undefined;
  private freed = false;
  /** The early removal, once started: the job's end waits for it, so that the next job finds the room. */
  removal: Promise<void> = Promise.resolve();

  constructor(
    /** Said when the workspace is removed early (the job's log). */
    private readonly note: (text: string) => void,
  ) {}

  /** A failure of the job's output on its way (spooling, sending): a full disk's starts the release. */
  saw(error: unknown): void {
    if (this.full || !isDiskFull(error)) return;
    this.full = true;
    this.release();
  }

  /** Nothing reads `workspace` again: the job's commands have ended and its artifacts are saved, or could not be. */
  done(workspace: string): void {
    this.finished ??= workspace;
    this.release();
  }

  private release(): void {
    if (!this.full || this.finished === undefined || this.freed) return;
    this.freed = true;
    this.note("the disk is full: removing this job's workspace now, to make room for its log and its end");
    this.removal = rm(this.finished, { recursive: true, force: true }).catch(() => {});
  }
}
