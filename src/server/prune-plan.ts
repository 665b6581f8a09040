/**
 * What a prune deletes, decided from every run and job's facts as read: the old, finished,
 * untagged runs of the caller's reach, less those a kept job needs, and the order to delete
 * them in. Pure: prune.ts reads, and checks each batch again under the submissions' lock.
 */
import { isFinished, resumableJobs } from '../core/job-status.js';
import type { RunRecord } from '../core/records.js';
import type { JobFacts } from './store/store.js';

export interface PlanOptions {
  user?: string | undefined;
  project?: string | undefined;
  includeStopped: boolean;
  /** Runs submitted before this (epoch ms) may go. */
  cutoff: number;
}

export interface PrunePlan {
  /** The runs to delete, each before every run it needs (a run it reuses or depends on a job of). */
  doomed: string[];
  /** Old runs kept for a resumable job. */
  keptStopped: string[];
  /** Old runs kept as a kept job needs them, each with the first run found to need it. */
  neededBy: Map<string, string>;
  /** The doomed runs each doomed run needs: kept with it should it be kept after all. */
  needs: Map<string, Set<string>>;
  /** Each run's jobs' facts. */
  jobsOf: Map<string, JobFacts[]>;
}

/** Whether a run of these jobs may be deleted as they stand now: all finished, none resumable unless `includeStopped`. */
export function deletable(jobs: readonly JobFacts[], includeStopped: boolean): boolean {
  return jobs.every((j) => isFinished(j.status)) && (includeStopped || resumableJobs(jobs).length === 0);
}

export function planPrune(runs: readonly RunRecord[], jobs: readonly JobFacts[], options: PlanOptions): PrunePlan {
  const { user, project, includeStopped, cutoff } = options;
  const jobsOf = new Map<string, JobFacts[]>();
  for (const j of jobs) {
    const of = jobsOf.get(j.runName);
    if (of) of.push(j);
    else jobsOf.set(j.runName, [j]);
  }
  const old = runs
    .filter((r) => (user === undefined || r.user === user) && (project === undefined || r.project === project))
    .filter((r) => !r.tag && r.submittedAt < cutoff)
    .filter((r) => (jobsOf.get(r.name) ?? []).every((j) => isFinished(j.status)));
  // A resumable job is work paused, its checkpoint saved for `dstack resume`, not work done.
  const resumable = (name: string) => !deletable(jobsOf.get(name) ?? [], includeStopped);
  const keptStopped = old.filter((r) => resumable(r.name)).map((r) => r.name);
  const doomed = new Set(old.filter((r) => !resumable(r.name)).map((r) => r.name));
  // Keep what kept jobs need, and what those need in turn (a reused job may itself reuse an
  // older one): a work list of the kept runs' jobs, each looked at once. (Passes over every job
  // until nothing changed took 1.5 s of the server's thread at 99,000 runs.)
  const runOf = new Map<string, string>();
  for (const j of jobs) runOf.set(j.id, j.runName);
  /** Calls `found` with each other run whose job `job` reuses or depends on. */
  const eachNeeded = (job: JobFacts, found: (run: string) => void): void => {
    if (job.cachedFrom !== undefined) {
      const run = runOf.get(job.cachedFrom);
      if (run !== undefined && run !== job.runName) found(run);
    }
    for (const id of job.dependsOn) {
      const run = runOf.get(id);
      if (run !== undefined && run !== job.runName) found(run);
    }
  };
  const neededBy = new Map<string, string>();
  const work = jobs.filter((j) => !doomed.has(j.runName));
  for (let job = work.pop(); job !== undefined; job = work.pop()) {
    const by = job.runName;
    eachNeeded(job, (run) => {
      if (!doomed.delete(run)) return;
      neededBy.set(run, by);
      for (const j of jobsOf.get(run) ?? []) work.push(j);
    });
  }
  const needs = new Map<string, Set<string>>();
  for (const job of jobs) {
    if (!doomed.has(job.runName)) continue;
    eachNeeded(job, (run) => {
      if (!doomed.has(run)) return;
      const wanted = needs.get(job.runName);
      if (wanted) wanted.add(run);
      else needs.set(job.runName, new Set([run]));
    });
  }
  return { doomed: dependentsFirst(doomed, needs), keptStopped, neededBy, needs, jobsOf };
}

/**
 * `names` with each before every name it needs (reverse topological order), by an iterative
 * depth-first walk: chains of re-runs reusing each other are as long as a history.
 */
function dependentsFirst(names: ReadonlySet<string>, needs: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const after: string[] = []; // each after everything it needs
  const seen = new Set<string>();
  for (const root of names) {
    if (seen.has(root)) continue;
    seen.add(root);
    const stack: [string, Iterator<string>][] = [[root, (needs.get(root) ?? new Set<string>()).values()]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top[1].next();
      if (next.done) {
        after.push(top[0]);
        stack.pop();
      } else if (!seen.has(next.value)) {
        seen.add(next.value);
        stack.push([next.value, (needs.get(next.value) ?? new Set<string>()).values()]);
      }
    }
  }
  return after.reverse();
}
