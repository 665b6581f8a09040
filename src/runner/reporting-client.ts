/**
 * The one-shot runner's client: its reports can be silenced once the job's end is no longer
 * this process's to report (Slurm is ending the job). A file apart from one-shot.ts so that
 * `dstack runner exec` can ask for its assignment before it loads the job-running modules.
 */
import type { ClientOptions } from '../client/client-options.js';
import { RunnerClient } from '../client/runner-client.js';
import type { LogEntry, RunnerTransitionAnswer, RunnerTransitionRequest } from '../core/api.js';
import type { JobStatus } from '../core/job-status.js';

/** A client whose reports can be silenced once the job's end is no longer this process's to report. */
export class ReportingClient extends RunnerClient {
  silenced = false;
  /** The last status the server accepted from this process. */
  last: JobStatus | undefined;
  /** While set, reports wait for it: whose end the job's is (after a SIGTERM) is being found out. */
  private verdict: Promise<unknown> | undefined;

  constructor(options: ClientOptions) {
    super(options);
  }

  /**
   * Hold every report until `decision` settles, then send it unless the decision silenced it.
   * A signal that ends the job's processes too (Slurm's scancel) may let the job exit before the
   * runner knows who ended it: its "exited 0, DONE" must not go out ahead of that.
   */
  holdReportsUntil(decision: Promise<unknown>): void {
    const settled = decision.then(
      () => undefined,
      () => undefined,
    );
    this.verdict = settled;
    void settled.then(() => {
      if (this.verdict === settled) this.verdict = undefined;
    });
  }

  override async transition(jobId: string, request: RunnerTransitionRequest): Promise<RunnerTransitionAnswer> {
    while (this.verdict) await this.verdict;
    // Answering "already FAILED" makes the job run wind down without reporting anything more.
    if (this.silenced) return SILENCED;
    return this.noted(request, await super.transition(jobId, request));
  }

  /** The job's last output goes out in any case; the transition riding on it is held or silenced as any other. */
  override async appendLogsThen(
    jobId: string,
    entries: LogEntry[],
    bytes: readonly Buffer[] | undefined,
    then: RunnerTransitionRequest,
  ): Promise<RunnerTransitionAnswer | undefined> {
    while (this.verdict) await this.verdict;
    if (this.silenced) {
      await this.appendLogs(jobId, entries, bytes);
      return SILENCED;
    }
    const result = await super.appendLogsThen(jobId, entries, bytes, then);
    return result && this.noted(then, result);
  }

  private noted(request: RunnerTransitionRequest, result: RunnerTransitionAnswer): RunnerTransitionAnswer {
    if (result.ok || result.actual === request.to) this.last = request.to;
    return result;
  }
}

const SILENCED: RunnerTransitionAnswer = { ok: false, actual: 'FAILED' };
