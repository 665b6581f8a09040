/**
 * A job a previous process of this runner left with its workspace intact (leftovers.ts), taken
 * up by the runner started again on that work dir. Its processes have ended; what it was doing
 * when its runner died decides how it ends (docs/decisions.md):
 * - RUNNING: stopped as `dstack stop` stops it (the server's stop, with a reason saying why),
 *   artifacts saved, STOPPED: `dstack resume` goes on from its checkpoint;
 * - STOPPING or ABORTING: that stop or abort carried on (artifacts saved, or none); a job the
 *   server had failed as lost meanwhile, taken back, is such a stop (agent.ts `takeUp`);
 * - UPLOADING: its commands had ended (exit code 0, a failure, or after a stop): its artifacts
 *   are saved again, and it ends as it would have, DONE, FAILED (with its exit code) or STOPPED;
 * - anything else (DOWNLOADING: its commands had not started): FAILED, `runner restarted`.
 * A save that fails ends it FAILED, saying so.
 */
import type { JobRecord } from '../core/records.js';
import { isTakenBack, restartedStop, runnerRestarted, type JobStatus } from '../core/job-status.js';
import { DONE_END, type CommandsEnd } from './commands-end.js';
import { JobRun } from './job-run.js';
import { removeWorkspace, workspacePath } from './workspace.js';

export class LeftoverJob extends JobRun {
  override async run(): Promise<void> {
    const { job, run } = this.assignment;
    const found = job.status;
    const workspace = workspacePath(this.ctx.workRoot, this.id);
    try {
      if (isTakenBack(job.reason))
        this.logs.note('its runner was lost and came back: the job was stopped, as dstack stop stops it');
      if (found !== 'RUNNING') return await this.end(job, workspace);
      // A user's stop or abort under way is kept; otherwise the server stops it now, with this reason.
      const reason = restartedStop(run.name, job.spec.artifacts.length > 0);
      const now = await this.ctx.client.stopOwnJob(this.id, { reason, graceMs: 0 }); // its processes have ended
      this.logs.note('its runner restarted: the job was stopped, as dstack stop stops it');
      await this.end(now, workspace);
    } catch (e) {
      this.ctx.logger.error(`job ${this.id} left by a previous runner could not be saved`, { error: String(e) });
      await this.finishFailed(
        `${runnerRestarted(found)}, and its artifacts could not be saved: ${(e as Error).message}`,
      )
        // Already ended (an abort, say): as it is.
        .catch(() => {});
    } finally {
      await removeWorkspace(this.ctx.workRoot, this.id, this.ctx.trash).catch(() => {});
    }
  }

  /** End it from `job`, as the server has it now. */
  private async end(job: JobRecord, workspace: string): Promise<void> {
    const status: JobStatus = job.status;
    if (status === 'STOPPING' || status === 'ABORTING') {
      this.request(job.stopRequest ?? (status === 'STOPPING' ? 'stop' : 'abort'));
      return this.finishStopped(workspace);
    }
    if (status === 'UPLOADING') return this.uploadAgain(workspace, job);
    await this.finishFailed(runnerRestarted(status));
  }

  /** Its commands had ended, and its runner died saving its artifacts: saved again, then as it would have ended. */
  private async uploadAgain(workspace: string, job: JobRecord): Promise<void> {
    const note = (text: string) => this.logs.note(text);
    note('its runner restarted while it saved its artifacts: saving them again');
    if (job.stopRequest !== 'stop') return this.saveAndEnd(workspace, endOf(job));
    // False: an abort came meanwhile, which finishStopped carries out (ABORTED).
    if (!(await this.save(workspace, note))) return this.finishStopped(workspace);
    await this.logs.close();
    await this.move('STOPPED');
  }
}

/**
 * How an UPLOADING job that no stop ended was to end: the runner moved a failed job there with
 * its reason (job-run.ts), and one whose commands exited 0 with none.
 */
function endOf(job: JobRecord): CommandsEnd {
  if (job.reason === undefined) return DONE_END;
  return {
    to: 'FAILED',
    fields: { reason: job.reason, ...(job.exitCode === undefined ? {} : { exitCode: job.exitCode }) },
  };
}
