/**
 * The one-shot runner's client: its reports can be silenced once the job's end is no longer
 * this process's to report (Slurm is ending the job). A file apart from one-shot.ts so that
 * `dstack runner exec` can ask for its assignment before it loads the job-running modules.
 */
import { Client, type ClientOptions } from '../client/client.js';
import type { Assignment, RunnerTransitionRequest } from '../core/api.js';
import type { JobStatus } from '../core/job-status.js';

/** A client whose reports can be silenced once the job's end is no longer this process's to report. */
export class ReportingClient extends Client {
  silenced = false;
  /** The last status the server accepted from this process. */
  last: JobStatus | undefined;

  constructor(options: ClientOptions) {
    super(options);
  }

  override async transition(
    jobId: string,
    request: RunnerTransitionRequest,
  ): Promise<{ ok: true; job: Assignment['job'] } | { ok: false; actual: JobStatus }> {
    // Answering "already FAILED" makes the job run wind down without reporting anything more.
    if (this.silenced) return { ok: false, actual: 'FAILED' };
    const result = await super.transition(jobId, request);
    if (result.ok || result.actual === request.to) this.last = request.to;
    return result;
  }
}
