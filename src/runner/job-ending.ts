/**
 * How a job run ends: its status and the transitions that move it (the server's answer to each says
 * whether a stop or an abort came), its log, and its end after its commands, a stop, an abort or a
 * failure, artifacts saved or not. JobRun (job-run.ts) and LeftoverJob run a job on it.
 */
import { UnauthorizedError } from '../core/errors.js';
import type { Assignment, RunnerTransitionAnswer, RunnerTransitionRequest } from '../core/api.js';
import { isFinished, type JobStatus } from '../core/job-status.js';
import { withRuntimeVariables } from '../core/runtime-variables.js';
import { containerRoot } from './container-root.js';
import { explainFullDisk } from '../files/refused-write.js';
import { JobDisk } from './job-disk.js';
import type { CommandsEnd } from './commands-end.js';
import type { JobRunContext } from './job-run-context.js';
import { LogShipper, LogsRefused } from './log-shipper.js';
import { SpoolUnwritable } from './log-spool-writer.js';
import { spoolPath } from './workspace.js';

/**
 * The artifact uploader, loaded once the job has started rather than before: its modules are
 * not needed until the job ends, and a job's first command waits for everything loaded before it.
 */
let artifactsModule: Promise<typeof import('./artifacts.js')> | undefined;
export const loadArtifacts = () => (artifactsModule ??= import('./artifacts.js'));
const saveArtifacts = async (...args: Parameters<typeof import('./artifacts.js').saveArtifacts>) =>
  (await loadArtifacts()).saveArtifacts(...args);

/** What a transition of the runner's may say besides the statuses. */
type TransitionExtra = Omit<RunnerTransitionRequest, 'from' | 'to'>;

export abstract class JobEnding {
  protected status: JobStatus;
  /** The stop or abort the user asked for (request), if any. */
  protected requested: 'stop' | 'abort' | undefined;
  /** An abort killed the job's process: its output ends wherever the kill found it. */
  protected killedByAbort = false;
  /** Why the server aborted a job it no longer gives this runner (RunnerCommand.reason); none for a user's abort. */
  protected abortReason: string | undefined;
  /** The log already says that an abort ended the job (one that came while artifacts were saved). */
  private abortNoted = false;
  /** Aborted by an abort: it also ends the save of the job's artifacts (nothing is kept); a running process is killed apart. */
  protected readonly aborted = new AbortController();
  protected readonly logs: LogShipper;
  /** Frees the workspace of a job whose commands have ended when the disk is full (job-disk.ts). */
  protected readonly disk: JobDisk;
  readonly id: string;
  /**
   * Its end is on its way to the server, or taken: the server's abort of a job it has ended
   * (the answer to a heartbeat that waited as the end arrived) is moot here, not news.
   */
  ending = false;
  /** The server took the job's end: a heartbeat no longer lists it (dropped-jobs.ts). */
  ended = false;
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

  /** A stop or abort from the user (through the server), or one the server's answer to a transition tells of. */
  abstract request(action: 'stop' | 'abort', graceMs?: number, reason?: string): void;

  /** Move to `to`; false when the server says the job is elsewhere now (a stop arrived). */
  protected async move(to: JobStatus, extra: TransitionExtra = {}): Promise<boolean> {
    if (isFinished(to)) await this.disk.freeBeforeEnd();
    const from = this.status;
    this.ending ||= isFinished(to);
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
    this.ending ||= isFinished(to);
    await this.logs.close(undefined, async (entries, bytes) => {
      answer = await this.ctx.client.appendLogsThen(this.id, entries, bytes, request);
    });
    // No answer: no output was left, or a server that does not know `then` stored the batch alone.
    return answer ? this.settle(request.from, to, answer) : this.move(to, extra);
  }

  private settle(from: JobStatus, to: JobStatus, result: RunnerTransitionAnswer): boolean {
    // `actual === to`: a retried request whose first answer was lost had already moved it.
    if (result.ok || result.actual === to) {
      this.ended ||= isFinished(to);
      // A stop or abort heard while the move was on its way came after it on the server: it stays.
      if (this.status === from) this.status = to;
      return true;
    }
    this.status = result.actual;
    this.ending = false; // refused: a stop or an abort came first, which the run carries out
    if (result.actual === 'STOPPING') this.request('stop');
    if (result.actual === 'ABORTING') this.request('abort');
    return false;
  }

  /**
   * A stop or an abort heard before the job's commands started: they never start, and nothing
   * is saved (the workspace holds only what the job was given; a resumed job keeps the
   * artifacts it was resumed with). STOPPED, resumable, or ABORTED, with the stop's reason.
   */
  protected async endUnstarted(): Promise<void> {
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
        const why = this.abortReason ? ` (${this.abortReason})` : '';
        this.logs.note(
          this.killedByAbort
            ? `aborted${why}: its commands were killed, and no artifacts are kept`
            : `aborted${why}: no artifacts are kept`,
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
      note(`aborted while saving artifacts${this.abortReason ? ` (${this.abortReason})` : ''}: none are kept`);
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
