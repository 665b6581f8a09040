/**
 * One job on a runner, from claim to its final status: its workspace prepared, its commands run, and
 * a stop or an abort, which can arrive at any point, applied to them. How it ends (transitions, logs,
 * artifacts) is job-ending.ts.
 */
import { UnauthorizedError } from '../core/errors.js';
import { HOST_JOB_REFUSED, runsOnHost } from '../core/job-needs.js';
import { stoppedBecause } from '../core/job-status.js';
import { readProviderSettings } from '../settings.js';
import { explainFullDisk, isDiskFull } from '../files/refused-write.js';
import { failureReason } from './job-disk.js';
import { commandsEnd } from './commands-end.js';
import type { Execution } from './executors/executor.js';
import { JobEnding, loadArtifacts } from './job-ending.js';
import { launchJob } from './launch.js';
import { TOKEN_REFUSED_WHY } from './refused-token.js';
import { prepareWorkspace, removeWorkspace } from './workspace.js';

export type { JobRunContext } from './job-run-context.js';

export class JobRun extends JobEnding {
  private execution: Execution | undefined;
  /** The job's process has ended (a stop's SIGKILL after the grace period is then moot). */
  private exited = false;
  /** From SIGTERM to SIGKILL after a stop: the stop's own grace period, else the runner's. */
  private graceMs = this.ctx.stopGraceMs;
  /**
   * Aborted by a stop or an abort, whenever it comes: it ends the job's preparation (its
   * downloads, a wait between retries, an image pull), and its commands then never start.
   */
  private readonly halted = new AbortController();

  /** A stop or abort from the user (through the server). */
  override request(action: 'stop' | 'abort', graceMs = this.ctx.stopGraceMs, reason?: string): void {
    if (this.requested === 'abort' || this.requested === action) return;
    this.requested = action;
    if (action === 'abort' && reason) this.abortReason = reason;
    // The server moved the job to STOPPING/ABORTING before telling us.
    this.status = action === 'abort' ? 'ABORTING' : 'STOPPING';
    this.graceMs = graceMs;
    this.halted.abort();
    if (action === 'abort') this.aborted.abort();
    if (this.execution) this.signal();
  }

  /** Apply the requested stop or abort to the running process (also when it arrived before the process existed). */
  private signal(): void {
    const execution = this.execution;
    if (!execution || !this.requested || this.exited) return;
    if (this.requested === 'abort') {
      this.killedByAbort ||= !this.exited;
      execution.kill();
    } else {
      execution.terminate();
      const graceMs = this.graceMs;
      setTimeout(() => {
        if (this.exited) return;
        this.logs.note(`still running ${graceMs / 1000} s after SIGTERM (its grace period): sending SIGKILL`);
        execution.kill();
      }, graceMs).unref();
    }
  }

  async run(): Promise<void> {
    const note = (text: string) => this.logs.note(text);
    let workspace: string | undefined;
    /** Its commands started: whatever fails before says so, and a resumed job stays resumable. */
    let launched = false;
    try {
      const spec = this.assignment.job.spec;
      if (this.ctx.hostJobs === false && runsOnHost(spec, readProviderSettings().pythonRuntime === 'docker')) {
        // From an older server, which does not read the runner's Capacity.host: failed, never run.
        this.ctx.logger.warn(`job ${this.id} failed: it has no image, and this runner runs no host jobs`);
        return await this.finishFailed(HOST_JOB_REFUSED, { commandsStarted: false });
      }
      workspace = await this.prepare(note);
      if (workspace === undefined) return await this.endUnstarted();
      // RUNNING is reported while the job starts, not before it: the round trip is off the way
      // to its first command. A stop that the answer brings is applied to the started process.
      const reported = this.status === 'DOWNLOADING' ? this.move('RUNNING') : Promise.resolve(true);
      reported.catch(() => {}); // awaited below; a failure while the job starts must not go unhandled
      let execution: Execution;
      try {
        execution = await launchJob({
          assignment: this.assignment,
          workspace,
          workRoot: this.ctx.workRoot,
          hostExecutor: this.ctx.executor,
          ...(this.ctx.hostJobs === false ? { hostJobs: false } : {}),
          baseEnv: this.ctx.baseEnv,
          onOutput: (stream, chunk) => this.logs.write(stream, chunk),
          whenDrained: (resume) => this.logs.whenDrained(resume),
          note,
          signal: this.halted.signal,
          venvBuilt: this.ctx.venvBuilt,
        });
      } catch (e) {
        await reported.catch(() => {}); // the launch failure is then reported from the status the server has
        if (this.requested) return await this.endUnstarted(); // it ended the launch (an image pull), or came with it
        throw explainFullDisk(e, workspace, "starting the job's commands");
      }
      launched = true;
      let running: boolean;
      try {
        running = await reported;
      } catch (e) {
        execution.kill(); // the server cannot be told it runs: it must not run unreported
        throw e;
      }
      if (!running && !this.requested) {
        // The server has the job in another state than a stop (ended as lost, say): it must not run.
        execution.kill();
        await execution.exit;
        return await this.finishStopped(workspace);
      }
      this.execution = execution;
      void loadArtifacts().catch(() => {}); // loaded while the job runs; a failure shows when it is used
      this.disk.recordPid(execution, this.ctx.logger);
      this.signal(); // a stop that arrived while the job was being launched or RUNNING was reported
      const exit = await this.execution.exit;
      this.exited = true;
      if (exit.interrupted && !this.requested) await this.stopFromOutside(exit.reason ?? 'ended from outside');
      if (!this.requested) await this.ctx.commandsEnded?.();
      if (this.requested) return await this.finishStopped(workspace);
      const end = commandsEnd(exit);
      if (exit.code !== 0 && exit.reason !== undefined) note(exit.reason);
      // The job's last output goes to the server while the server learns it is UPLOADING (not
      // a finished status: followers read on); the end waits for both. A failed job's
      // artifacts are saved as a done one's (a crash at epoch 90 keeps its checkpoints). A job
      // without artifacts has nothing to upload: it ends from RUNNING with its last output.
      if (spec.artifacts.length > 0) {
        const sent = this.logs.close();
        sent.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
        // A failed job says so already: a runner restarted during the save ends it FAILED too (leftover-job.ts).
        if (!(await this.move('UPLOADING', end.to === 'FAILED' ? end.fields : {}))) {
          await sent;
          return await this.finishStopped(workspace);
        }
        return await this.saveAndEnd(workspace, end, sent);
      }
      // Refused when a stop or an abort came first: it is carried out, not left pending.
      if (!(await this.finish(end.to, end.fields))) await this.finishStopped(workspace);
    } catch (e) {
      if (e instanceof UnauthorizedError) {
        // The runner was deleted or its token replaced: the server failed the job already, and
        // the agent says so and stops (RunnerAgent.refused). No bug, and nothing to report it to.
        this.ctx.logger.info(
          `job ${this.id} ended here unreported: the server refuses this runner's token, which was ${TOKEN_REFUSED_WHY}`,
        );
        return;
      }
      this.disk.noticed(e);
      const reason = failureReason(e, this.ctx.workRoot);
      const stack = isDiskFull(e) ? {} : { stack: (e as Error).stack }; // not a bug
      this.ctx.logger.error(`job ${this.id} failed in the runner: ${reason}`, { error: String(e), ...stack });
      await this.finishFailed(reason, launched ? {} : { commandsStarted: false }).catch(() => {});
    } finally {
      await this.disk.removal;
      await removeWorkspace(this.ctx.workRoot, this.id, this.ctx.trash).catch(() => {});
    }
  }

  /**
   * Its commands were ended from outside (its Docker engine shut down): the server stops it as a
   * runner's shutdown does, and it ends STOPPED, artifacts saved, for `dstack resume` to go on.
   * A user's stop or abort under way is kept. A server that cannot be told has it fail, as any
   * other exit does.
   */
  private async stopFromOutside(why: string): Promise<void> {
    const { run, job } = this.assignment;
    const reason = stoppedBecause(why, run.name, job.spec.artifacts.length > 0);
    const now = await this.ctx.client.stopOwnJob(this.id, { reason, graceMs: 0 }).catch((e: unknown) => {
      if (e instanceof UnauthorizedError) throw e;
      this.ctx.logger.warn(`job ${this.id}: ${why}, and the server cannot be told to stop it`, { error: String(e) });
    });
    if (!now?.stopRequest) return;
    this.logs.note(`${why}: the job is stopped, as dstack stop stops it`);
    this.request(now.stopRequest, 0);
  }

  /**
   * The job's workspace; undefined when a stop or an abort came while it was prepared (whatever
   * that cut short, a download or a retried request, is moot then).
   */
  private async prepare(note: (text: string) => void): Promise<string | undefined> {
    const { client, workRoot } = this.ctx;
    try {
      const workspace = await prepareWorkspace(client, workRoot, this.assignment, note, this.halted.signal);
      return this.requested ? undefined : workspace;
    } catch (e) {
      if (this.requested) return undefined;
      throw e;
    }
  }
}
