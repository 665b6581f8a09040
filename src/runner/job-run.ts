/**
 * One job on a runner, from claim to its final status: workspace, commands, logs,
 * artifacts. Stop and abort can arrive at any point; the server's answer to each
 * transition says whether one did.
 */
import type { RunnerClient } from '../client/runner-client.js';
import { UnauthorizedError } from '../core/errors.js';
import type { Assignment, RunnerTransitionAnswer, RunnerTransitionRequest } from '../core/api.js';
import { isFinished, type JobStatus } from '../core/job-status.js';
import { withRuntimeVariables } from '../core/runtime-variables.js';
import type { Logger } from '../logger.js';
import { containerRoot } from './container-root.js';
import { explainFullDisk, isDiskFull } from '../files/refused-write.js';
import { failureReason, JobDisk } from './job-disk.js';
import { commandsEnd, type CommandsEnd } from './commands-end.js';
import type { Execution, Executor } from './executors/executor.js';
import { launchJob } from './launch.js';
import { LogShipper, LogsRefused } from './log-shipper.js';
import { SpoolUnwritable } from './log-spool-writer.js';
import type { Trash } from './trash.js';
import { TOKEN_REFUSED_WHY } from './refused-token.js';
import { prepareWorkspace, removeWorkspace, spoolPath } from './workspace.js';

/**
 * The artifact uploader, loaded once the job has started rather than before: its modules are
 * not needed until the job ends, and a job's first command waits for everything loaded before it.
 */
let artifactsModule: Promise<typeof import('./artifacts.js')> | undefined;
const artifacts = () => (artifactsModule ??= import('./artifacts.js'));
const saveArtifacts = async (...args: Parameters<typeof import('./artifacts.js').saveArtifacts>) =>
  (await artifacts()).saveArtifacts(...args);

export interface JobRunContext {
  client: RunnerClient;
  executor: Executor;
  workRoot: string;
  logger: Logger;
  /** Environment the runner passes on to jobs (its own, less dstack's secrets). */
  baseEnv: Record<string, string>;
  stopGraceMs: number;
  /** Where finished jobs' folders go to be removed in the background; without one, removed in place. */
  trash?: Trash;
  /** Log lines go to a spool file before they are sent (RunnerOptions.spoolLogs); default true. */
  spoolLogs?: boolean;
  /** Told when a job has built a cached virtualenv (LaunchContext.venvBuilt). */
  venvBuilt?: () => void;
  /**
   * Awaited once the job's commands have ended with no stop or abort requested, before their end
   * is reported: whoever runs the job may find it was ended from outside (a one-shot runner asks
   * Slurm) and request the stop then, so that it ends STOPPED, not as its exit code says.
   */
  commandsEnded?: () => Promise<void>;
}

/** What a transition of the runner's may say besides the statuses. */
type TransitionExtra = Omit<RunnerTransitionRequest, 'from' | 'to'>;

export class JobRun {
  protected status: JobStatus;
  private execution: Execution | undefined;
  private requested: 'stop' | 'abort' | undefined;
  /** The job's process has ended (a stop's SIGKILL after the grace period is then moot). */
  private exited = false;
  /** An abort killed the job's process: its output ends wherever the kill found it. */
  private killedByAbort = false;
  /** The log already says that an abort ended the job (one that came while artifacts were saved). */
  private abortNoted = false;
  private graceMs: number;
  /**
   * Aborted by a stop or an abort, whenever it comes: it ends the job's preparation (its
   * downloads, a wait between retries, an image pull), and its commands then never start.
   */
  private readonly halted = new AbortController();
  /** Aborted by an abort: it also ends the save of the job's artifacts (nothing is kept); a running process is killed apart. */
  private readonly aborted = new AbortController();
  protected readonly logs: LogShipper;
  /** Frees the workspace of a job whose commands have ended when the disk is full (job-disk.ts). */
  private readonly disk: JobDisk;
  readonly id: string;
  /** As the server sent it, with `$run_name` and `$job_id` filled in across the job's spec. */
  protected readonly assignment: Assignment;

  constructor(
    protected readonly ctx: JobRunContext,
    assignment: Assignment,
  ) {
    const values = { runName: assignment.run.name, jobId: assignment.job.id };
    this.assignment = {
      ...assignment,
      job: { ...assignment.job, spec: withRuntimeVariables(assignment.job.spec, values) },
    };
    this.id = assignment.job.id;
    this.status = assignment.job.status;
    this.graceMs = ctx.stopGraceMs;
    const log = ctx.logger.child(`job:${this.id}`);
    this.disk = new JobDisk(ctx.workRoot, this.id, (text) => this.logs.note(text));
    this.logs = new LogShipper(
      (entries, bytes) => ctx.client.appendLogs(this.id, entries, bytes),
      assignment.logSeq,
      200,
      (e) => {
        if (e instanceof LogsRefused) return log.error(e.message);
        if (e instanceof UnauthorizedError) return; // the job ends here, and says why (run)
        this.disk.noticed(e instanceof SpoolUnwritable ? e.cause : e);
        if (e instanceof SpoolUnwritable) log.warn(e.message);
        else log.warn('sending logs failed; will retry', { error: String(e) });
      },
      ctx.spoolLogs === false ? undefined : spoolPath(ctx.workRoot, this.id),
    );
  }

  /** A stop or abort from the user (through the server). */
  request(action: 'stop' | 'abort', graceMs = this.ctx.stopGraceMs): void {
    if (this.requested === 'abort' || this.requested === action) return;
    this.requested = action;
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
    if (!execution || !this.requested) return;
    if (this.requested === 'abort') {
      this.killedByAbort ||= !this.exited;
      execution.kill();
    } else {
      execution.terminate();
      const graceMs = this.graceMs;
      setTimeout(() => {
        if (this.exited) return;
        this.logs.note(`still running ${graceMs / 1000} s after SIGTERM (its grace period): killed`);
        execution.kill();
      }, graceMs).unref();
    }
  }

  /** Move to `to`; false when the server says the job is elsewhere now (a stop arrived). */
  protected async move(to: JobStatus, extra: TransitionExtra = {}): Promise<boolean> {
    if (isFinished(to)) await this.disk.freeBeforeEnd();
    const from = this.status;
    return this.settle(from, to, await this.ctx.client.transition(this.id, { from, to, ...extra }));
  }

  /**
   * Send the rest of the job's output, then move to `to`: in one request when output is left
   * (the move rides on the last batch; the server stores the batch first), else the move alone.
   */
  protected async finish(to: JobStatus, extra: TransitionExtra = {}): Promise<boolean> {
    if (isFinished(to)) await this.disk.freeBeforeEnd();
    const request: RunnerTransitionRequest = { from: this.status, to, ...extra };
    let answer: RunnerTransitionAnswer | undefined;
    await this.logs.close(undefined, async (entries, bytes) => {
      answer = await this.ctx.client.appendLogsThen(this.id, entries, bytes, request);
    });
    // No answer: no output was left, or a server that does not know `then` stored the batch alone.
    return answer ? this.settle(request.from, to, answer) : this.move(to, extra);
  }

  private settle(from: JobStatus, to: JobStatus, result: RunnerTransitionAnswer): boolean {
    // `actual === to`: a retried request whose first answer was lost had already moved it.
    if (result.ok || result.actual === to) {
      // A stop or abort heard while the move was on its way came after it on the server: it stays.
      if (this.status === from) this.status = to;
      return true;
    }
    this.status = result.actual;
    if (result.actual === 'STOPPING') this.request('stop');
    if (result.actual === 'ABORTING') this.request('abort');
    return false;
  }

  async run(): Promise<void> {
    const note = (text: string) => this.logs.note(text);
    let workspace: string | undefined;
    /** Its commands started: whatever fails before says so, and a resumed job stays resumable. */
    let launched = false;
    try {
      const spec = this.assignment.job.spec;
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
      void artifacts().catch(() => {}); // loaded while the job runs; a failure shows when it is used
      this.disk.recordPid(execution, this.ctx.logger);
      this.signal(); // a stop that arrived while the job was being launched or RUNNING was reported
      const exit = await this.execution.exit;
      this.exited = true;
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

  /**
   * A stop or an abort heard before the job's commands started: they never start, and nothing
   * is saved (the workspace holds only what the job was given; a resumed job keeps the
   * artifacts it was resumed with). STOPPED, resumable, or ABORTED, with the stop's reason.
   */
  private async endUnstarted(): Promise<void> {
    this.logs.note(
      this.requested === 'abort'
        ? 'aborted before its commands started: they did not run'
        : 'stopped before its commands started: they did not run, and no artifacts are saved',
    );
    await this.logs.close();
    // Refused when an abort came meanwhile: that one is carried out.
    if (this.status === 'STOPPING' && (await this.move('STOPPED'))) return;
    if (this.status === 'ABORTING') await this.move('ABORTED');
  }

  /**
   * After a stop: save artifacts (a job without any goes straight on), then STOPPED, keeping
   * the reason the stop gave (a user's, the server's shutdown); after an abort: ABORTED at once.
   */
  protected async finishStopped(workspace: string): Promise<void> {
    await this.logs.close();
    if (this.requested === 'abort' || this.status === 'ABORTING') {
      // The log would stop short, mid-line maybe, without a word of why; the note goes after
      // the output's last (unfinished) line, which the close above sent.
      if (!this.abortNoted) {
        this.logs.note(
          this.killedByAbort
            ? 'aborted: its commands were killed, and no artifacts are kept'
            : 'aborted: no artifacts are kept',
        );
        await this.logs.close();
      }
      await this.move('ABORTED');
      return;
    }
    if (this.status !== 'STOPPING') return;
    const { artifacts } = this.assignment.job.spec;
    if (artifacts.length > 0) {
      if (!(await this.move('UPLOADING'))) return;
      this.logs.note('stopped; saving artifacts');
      if (!(await this.save(workspace, (t) => this.logs.note(t)))) {
        await this.logs.close();
        await this.move('ABORTED');
        return;
      }
      this.disk.done();
      await this.logs.close();
    }
    await this.move('STOPPED');
  }

  /**
   * Save the artifacts of a job whose commands have ended (UPLOADING), then end it as they did.
   * A failed job whose save fails ends FAILED saying both; a done one's failure is thrown, as any
   * runner error. `sent`: its last output, on its way while the save starts.
   */
  protected async saveAndEnd(
    workspace: string,
    end: CommandsEnd,
    sent: Promise<void> = Promise.resolve(),
  ): Promise<void> {
    let saved: boolean;
    try {
      saved = await this.save(workspace, (text) => this.logs.note(text));
    } catch (e) {
      this.disk.noticed(e);
      this.disk.done();
      if (end.to !== 'FAILED') throw e;
      await sent.catch(() => {});
      this.ctx.logger.error(`job ${this.id} failed, and its artifacts could not be saved`, { error: String(e) });
      return this.finishFailed(
        `${end.fields.reason}, and its artifacts could not be saved: ${(e as Error).message}`,
        end.fields,
      );
    }
    if (!saved) {
      // An abort ended the save, which finishStopped carries out.
      await sent.catch(() => {});
      return this.finishStopped(workspace);
    }
    this.disk.done();
    await sent;
    // Refused when a stop or an abort came first: it is carried out, not left pending.
    if (!(await this.finish(end.to, end.fields))) await this.finishStopped(workspace);
  }

  /** Save the job's artifacts; false when an abort ended the save (no manifest is stored). */
  protected async save(workspace: string, note: (text: string) => void): Promise<boolean> {
    const { artifacts } = this.assignment.job.spec;
    try {
      await saveArtifacts(
        this.ctx.client,
        this.id,
        workspace,
        artifacts,
        note,
        this.containerRoot(),
        this.aborted.signal,
      );
      return true;
    } catch (e) {
      if (!this.aborted.signal.aborted) {
        // In the server's own runner the files go into its blob folder; elsewhere nothing is written here.
        throw explainFullDisk(e, this.ctx.client.localBlobs ?? workspace, 'saving artifacts');
      }
      note('aborted while saving artifacts: none are kept');
      this.abortNoted = true;
      return false;
    }
  }

  /**
   * FAILED with `reason`, the exit code of its commands when they ran, and `commandsStarted:
   * false` when they never started (the server may resume it); a stop or abort that came first is carried out.
   */
  protected async finishFailed(
    reason: string,
    { exitCode, commandsStarted }: { exitCode?: number } & Pick<TransitionExtra, 'commandsStarted'> = {},
  ): Promise<void> {
    this.logs.note(reason);
    const fields = {
      reason,
      ...(exitCode === undefined ? {} : { exitCode }),
      ...(commandsStarted === undefined ? {} : { commandsStarted }),
    };
    if (!(await this.finish('FAILED', fields))) {
      if (this.status === 'STOPPING') await this.move('STOPPED');
      else if (this.status === 'ABORTING') await this.move('ABORTED');
    }
  }

  /** Where the job's absolute artifact paths (in its container) are kept on the runner. */
  private containerRoot(): string {
    return containerRoot(this.ctx.workRoot, this.id);
  }
}
