/**
 * `dstack prune`: delete finished, untagged runs older than a cutoff (of one project, or of
 * every one), their logs, and the blobs nothing kept refers to. A run that a kept job still
 * needs (it reuses one of its jobs, or depends on one) is kept, and so is every blob of a kept
 * run's code and artifacts. A dry run says what would go and deletes nothing.
 */
import type { PruneResult } from '../core/api.js';
import { forEachLimit } from '../core/concurrency.js';
import { InvalidError, NotFoundError } from '../core/errors.js';
import { isFinished, resumableJobs } from '../core/job-status.js';
import type { RunRecord } from '../core/records.js';
import { askedSince } from './asked-blobs.js';
import { readCodeManifest } from './code.js';
import type { Engine } from './engine.js';
import type { JobFacts } from './store/store.js';

/**
 * Blobs younger than this are never deleted: they may belong to an upload whose manifest is
 * not written yet, and so may older ones an upload plan said were stored since (asked-blobs.ts).
 * Nor are temp files written to since: an upload may still be writing them.
 */
const FRESH_BLOB_MS = 60 * 60_000;

/** Blob deletions in flight at once. */
const DELETES_IN_FLIGHT = 16;

export interface PruneOptions {
  /**
   * Delete only this user's runs (a non-admin caller). What must be kept is still decided over
   * every user's runs (another user's kept job may reuse one of this user's), and blobs are
   * collected across all users.
   */
  user?: string;
  /** Delete only this project's runs (core/projects.ts); what is kept is still decided over every project's. */
  project?: string;
  /** Who asks: the runs of other users among those deleted are named to them (an admin's reach). */
  caller?: string;
  dryRun?: boolean;
  /**
   * Delete runs with a resumable job too (STOPPED, or FAILED in a resume before its commands
   * started: job-status.ts `isResumable`): by default they stay.
   */
  includeStopped?: boolean;
}

export async function prune(engine: Engine, olderThanMs: number, options: PruneOptions = {}): Promise<PruneResult> {
  const { user, project, caller, dryRun = false, includeStopped = false } = options;
  return engine.serialize(async () => {
    const { store } = engine;
    const runs = await store.listRuns({});
    const jobs = await store.allJobFacts();
    const cutoff = Date.now() - olderThanMs;
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
    const resumable = (name: string) => !includeStopped && resumableJobs(jobsOf.get(name) ?? []).length > 0;
    const keptStopped = old.filter((r) => resumable(r.name)).map((r) => r.name);
    const doomed = new Set(old.filter((r) => !resumable(r.name)).map((r) => r.name));
    // Keep what kept jobs need, until nothing changes (a reused job may itself reuse an older one).
    const runOf = new Map(jobs.map((j) => [j.id, j.runName]));
    const neededBy = new Map<string, string>(); // a run kept so, and the first run found to need it
    for (let changed = true; changed;) {
      changed = false;
      for (const job of jobs.filter((j) => !doomed.has(j.runName))) {
        for (const needed of [job.cachedFrom, ...job.dependsOn]) {
          const run = needed && runOf.get(needed);
          if (run && doomed.delete(run)) {
            changed = true;
            neededBy.set(run, job.runName);
          }
        }
      }
    }
    // The run that needs it, where the caller may see that run: another user's is only counted.
    const owner = new Map(runs.map((r) => [r.name, r.user]));
    const keptReused = [...neededBy].map(([run, by]) =>
      user === undefined || owner.get(by) === user ? { run, by } : { run },
    );
    const others = [...new Set([...doomed].map((name) => owner.get(name)!))].filter((u) => u !== caller).sort();
    const told = { ...(project === undefined ? {} : { project }), keptStopped, keptReused, otherUsers: others };
    const fresh = Date.now() - FRESH_BLOB_MS;
    // Runs are created only under this lock (submit.ts): those read above are every run there is.
    const kept = runs.filter((r) => !doomed.has(r.name));
    const keptJobs = new Set(jobs.filter((j) => !doomed.has(j.runName)).map((j) => j.id));
    if (dryRun) return { runs: [...doomed], ...(await collectBlobs(engine, fresh, kept, keptJobs)), dryRun, ...told };
    // Logs first: a prune cut off between the two (a crash, a full disk) leaves runs the next one
    // deletes, where it left log files that no job named, which nothing ever deleted.
    for (const job of jobs.filter((j) => doomed.has(j.runName))) await engine.logs.delete(job.id);
    await store.deleteRuns([...doomed]);
    const { blobs, bytes } = await collectBlobs(engine, fresh, kept);
    const leftovers = (await engine.blobs.removeLeftovers?.(fresh)) ?? { files: 0, bytes: 0 };
    engine.logger.info(`pruned ${doomed.size} runs, ${blobs} blobs, ${leftovers.files} temp files`, {
      bytes: bytes + leftovers.bytes,
    });
    return { runs: [...doomed], blobs, bytes, leftovers, ...told };
  });
}

/**
 * Delete blobs stored before `fresh` that no kept run's code, no job's artifacts and no archived
 * log refer to (of every user, not just the caller's); with `keptJobs` (a dry run, whose doomed
 * runs are still stored), count those that would be once only those jobs were left, and delete
 * nothing.
 */
async function collectBlobs(
  engine: Engine,
  fresh: number,
  runs: readonly RunRecord[],
  keptJobs?: ReadonlySet<string>,
): Promise<{ blobs: number; bytes: number }> {
  const live = new Set<string>();
  // Each code manifest once: most runs share their code with others (a re-run, a changed variable),
  // and reading it per run took a minute of the lock on a server of 100,000 runs.
  for (const digest of new Set(runs.map((r) => r.codeDigest))) {
    live.add(digest);
    const code = await readCodeManifest(engine.blobs, digest).catch(notThere);
    for (const f of code?.files ?? []) if (f.digest) live.add(f.digest);
  }
  for (const { jobId, manifest } of await engine.store.allArtifacts()) {
    if (keptJobs && !keptJobs.has(jobId)) continue;
    for (const a of manifest.artifacts) for (const f of a.files) if (f.digest) live.add(f.digest);
  }
  for (const { jobId, digest } of await engine.store.allLogArchives())
    if (!keptJobs || keptJobs.has(jobId)) live.add(digest);
  const unnamed: { digest: string; size: number }[] = [];
  for await (const blob of engine.blobs.list()) {
    if (!live.has(blob.digest) && blob.storedAt <= fresh) unnamed.push(blob);
  }
  let blobs = 0;
  let bytes = 0;
  // Several at once: on S3 each is a request, and a prune of thousands held submissions that long.
  await forEachLimit(unnamed, DELETES_IN_FLIGHT, async ({ digest, size }) => {
    // Asked about just before its deletion: a plan that starts after it finds the blob missing.
    if (askedSince(engine.blobs, digest, fresh)) return;
    if (!keptJobs) await engine.blobs.delete(digest);
    blobs++;
    bytes += size;
  });
  return { blobs, bytes };
}

/**
 * A code manifest that is not stored (deleted by hand, or its run's upload never finished) or
 * not one names no blobs. Any other failure (the storage unreachable) fails the prune: taken as
 * naming none, it deleted the code of every run that shared it, tagged ones too.
 */
function notThere(e: unknown): undefined {
  if (e instanceof NotFoundError || e instanceof InvalidError) return undefined;
  throw e;
}
