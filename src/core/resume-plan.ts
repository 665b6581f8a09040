/**
 * What `dstack resume RUN` does to each of the run's jobs, for the dashboard's Resume dialog and
 * the CLI's `not resumed:` lines (one rule, so the two never disagree): the jobs
 * it resumes (core/job-status.ts `resumableJobs`, as the server takes them) and those it leaves
 * as they ended, each with why and what to do instead, in the words the CLI and the server use
 * (`not resumed: … its dependency prepare (id) is FAILED; run the workflow again with …`).
 * Jobs DONE or still going are neither: the resume does not touch them. Pure: no DOM.
 */
import { endedDependency, isFinished, isResumable, resumableJobs } from './job-status.js';
import type { JobRecord } from './records.js';
import { runAgainCommand } from './variables.js';

export interface ResumePlan {
  resumes: JobRecord[];
  leaves: { job: JobRecord; why: string }[];
}

export function resumePlan(jobs: readonly JobRecord[], overrides: Record<string, string>): ResumePlan {
  const resumes = resumableJobs(jobs);
  const taken = new Set(resumes.map((j) => j.id));
  const leaves: ResumePlan['leaves'] = [];
  for (const job of jobs) {
    if (taken.has(job.id) || !isFinished(job.status) || job.status === 'DONE') continue;
    const again = `run the workflow again with ${runAgainCommand(job, overrides)}`;
    if (isResumable(job)) {
      // Resumable by itself, but a dependency that ended for good would leave it waiting for ever.
      const dep = endedDependency(job, jobs, taken);
      const because = dep ? `its dependency ${dep.ref} (${dep.id}) is ${dep.status}` : 'a dependency cannot resume';
      leaves.push({ job, why: `${because}; ${again}` });
    } else if (job.status === 'ABORTED') {
      leaves.push({ job, why: `an aborted job saved nothing to go on from; ${again}` });
    } else {
      const reason = job.reason ? ` (${job.reason})` : '';
      leaves.push({
        job,
        why: `it ${job.status}${reason}: only a stopped job resumes, or one whose resume failed before its commands started; ${again}`,
      });
    }
  }
  return { resumes, leaves };
}
