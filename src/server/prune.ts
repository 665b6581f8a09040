/**
 * `dstack prune`: delete finished, untagged runs older than a cutoff (of one project, or of
 * every one), their logs, and the blobs nothing kept refers to. A run that a kept job still
 * needs (it reuses one of its jobs, or depends on one) is kept, and so is every blob of a kept
 * run's code and artifacts. A dry run says what would go and deletes nothing.
 *
 * The store is read without the submissions' lock, and deleted from in batches that each take
 * it: between them, `dstack run` goes on. What a batch deletes is checked again under the lock
 * (prune-plan.ts decided on the store as read), and so is what a blob batch deletes.
 */
import type { PruneResult } from '../core/api.js';
import { forEachLimit } from '../core/concurrency.js';
import { InvalidError, NotFoundError } from '../core/errors.js';
import type { RunRecord } from '../core/records.js';
import { askedSince } from './asked-blobs.js';
import { readCodeManifest } from './code.js';
import type { Engine } from './engine.js';
import { deletable, planPrune, type PrunePlan } from './prune-plan.js';
import { batches } from './store/batches.js';
import type { JobFacts } from './store/store.js';

/**
 * Blobs younger than this are never deleted: they may belong to an upload whose manifest is
 * not written yet, and so may older ones an upload plan said were stored since (asked-blobs.ts).
 * Nor are temp files written to since: an upload may still be writing them.
 */
const FRESH_BLOB_MS = 60 * 60_000;

/** Blob deletions in flight at once. */
const DELETES_IN_FLIGHT = 16;
/** Runs deleted, and blobs, per hold of the submissions' lock. */
const RUN_BATCH = 500;
const BLOB_BATCH = 256;
/** Artifact manifests read at once: the rest of the history's are not in memory meanwhile. */
const ARTIFACT_PAGE = 500;

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
  const { store } = engine;
  const readAt = Date.now();
  const runs = await store.listRuns({});
  // The jobs' facts a batch of runs at a time, the event loop turning between: read at once, the
  // 300,000 jobs of a year held every request for seconds.
  const facts: JobFacts[] = [];
  for (const batch of batches(
    runs.map((r) => r.name),
    RUN_BATCH,
  )) {
    facts.push(...(await store.allJobFacts(batch)));
    await turn();
  }
  const plan = planPrune(runs, facts, {
    user,
    project,
    includeStopped,
    cutoff: readAt - olderThanMs,
  });
  // The run that needs it, where the caller may see that run: another user's is only counted.
  const owner = new Map(runs.map((r) => [r.name, r.user]));
  const keptReused = [...plan.neededBy].map(([run, by]) =>
    user === undefined || owner.get(by) === user ? { run, by } : { run },
  );
  const told = { ...(project === undefined ? {} : { project }), keptStopped: plan.keptStopped, keptReused };
  const position = new Map(runs.map((r, i) => [r.name, i]));
  const listed = (names: readonly string[]) => [...names].sort((a, b) => position.get(a)! - position.get(b)!); // newest first
  const othersOf = (names: readonly string[]) =>
    [...new Set(names.map((name) => owner.get(name)!))].filter((u) => u !== caller).sort();
  const fresh = Date.now() - FRESH_BLOB_MS;
  const known = new Set(runs.map((r) => r.name));
  if (dryRun) {
    const doomed = new Set(plan.doomed);
    const keptJobs = new Set([...plan.jobsOf].flatMap(([run, jobs]) => (doomed.has(run) ? [] : jobs.map((j) => j.id))));
    const kept = runs.filter((r) => !doomed.has(r.name));
    const counted = await collectBlobs(engine, fresh, kept, { readAt, known, keptJobs });
    return { runs: listed(plan.doomed), ...counted, dryRun, ...told, otherUsers: othersOf(plan.doomed) };
  }
  const deleted = await deleteRuns(engine, plan, { readAt, known, includeStopped });
  const gone = new Set(deleted);
  const { blobs, bytes } = await collectBlobs(
    engine,
    fresh,
    runs.filter((r) => !gone.has(r.name)),
    { readAt, known },
  );
  const leftovers = (await engine.blobs.removeLeftovers?.(fresh)) ?? { files: 0, bytes: 0 };
  engine.logger.info(`pruned ${deleted.length} runs, ${blobs} blobs, ${leftovers.files} temp files`, {
    bytes: bytes + leftovers.bytes,
  });
  return { runs: listed(deleted), blobs, bytes, leftovers, ...told, otherUsers: othersOf(deleted) };
}

/** What the prune read: when, and the runs there were (those submitted since are found by time). */
interface Read {
  readAt: number;
  known: ReadonlySet<string>;
}

/**
 * Runs submitted since the prune read the store, not seen yet (and now seen). Found by time,
 * from an hour before the read: a clock stepped back a little still finds them.
 */
async function newRuns(engine: Engine, read: Read, seen: Set<string>): Promise<RunRecord[]> {
  const since = await engine.store.listRuns({ since: read.readAt - FRESH_BLOB_MS });
  const found = since.filter((r) => !read.known.has(r.name) && !seen.has(r.name));
  for (const r of found) seen.add(r.name);
  return found;
}

/**
 * Delete the plan's runs with their logs, RUN_BATCH at a time, each batch under the
 * submissions' lock and checked again there: a run tagged since, resumed since, or needed by a
 * job since (a new run's, that reuses or waits on one of its jobs) is kept, and so is every run
 * it needs (the plan orders runs so that those come later). Returns the runs deleted.
 */
async function deleteRuns(
  engine: Engine,
  plan: PrunePlan,
  read: Read & { includeStopped: boolean },
): Promise<string[]> {
  const { store } = engine;
  const kept = new Set<string>();
  const keep = (name: string): void => {
    const stack = [name];
    for (let run = stack.pop(); run !== undefined; run = stack.pop()) {
      if (kept.has(run)) continue;
      kept.add(run);
      stack.push(...(plan.needs.get(run) ?? []));
    }
  };
  const deleted: string[] = [];
  const seenNew = new Set<string>();
  const newJobs: JobFacts[] = [];
  for (const batch of batches(plan.doomed, RUN_BATCH)) {
    await engine.serialize(async () => {
      const names = batch.filter((name) => !kept.has(name));
      const facts = await store.allJobFacts(names);
      const runOf = new Map(facts.map((j) => [j.id, j.runName]));
      const jobsNow = new Map<string, JobFacts[]>();
      for (const j of facts) {
        const of = jobsNow.get(j.runName);
        if (of) of.push(j);
        else jobsNow.set(j.runName, [j]);
      }
      const tagged = new Set((await store.taggedRuns()).map((r) => r.name));
      for (const name of names)
        if (tagged.has(name) || !deletable(jobsNow.get(name) ?? [], read.includeStopped)) keep(name);
      for (const run of await newRuns(engine, read, seenNew)) newJobs.push(...(await store.allJobFacts([run.name])));
      // Who needs this batch's jobs now (by index; a new run's cached copies have no dependency
      // rows, so their links are read): any run but one of this batch's that goes with it.
      const needing: { by: string; needed: string }[] = [];
      for (const ref of await store.jobsNeeding([...runOf.keys()]))
        needing.push({ by: ref.runName, needed: runOf.get(ref.needs)! });
      for (const job of newJobs)
        for (const id of [job.cachedFrom, ...job.dependsOn]) {
          const needed = id && runOf.get(id);
          if (needed) needing.push({ by: job.runName, needed });
        }
      const inBatch = new Set(names);
      for (let changed = true; changed;) {
        changed = false;
        for (const { by, needed } of needing) {
          if (by === needed || kept.has(needed) || (inBatch.has(by) && !kept.has(by))) continue;
          keep(needed);
          changed = true;
        }
      }
      const going = names.filter((name) => !kept.has(name) && jobsNow.has(name));
      // Logs first: a prune cut off between the two (a crash, a full disk) leaves runs the next one
      // deletes, where it left log files that no job named, which nothing ever deleted.
      const logs = going.flatMap((name) => jobsNow.get(name)!.map((job) => job.id));
      await forEachLimit(logs, DELETES_IN_FLIGHT, (id) => engine.logs.delete(id)); // three files each
      await store.deleteRuns(going);
      deleted.push(...going);
    });
    await turn();
  }
  return deleted;
}

/**
 * Delete blobs stored before `fresh` that no kept run's code, no job's artifacts and no archived
 * log refer to (of every user, not just the caller's); with `keptJobs` (a dry run, whose doomed
 * runs are still stored), count those that would be once only those jobs were left, and delete
 * nothing. Deletions go BLOB_BATCH at a time under the submissions' lock, after the code of runs
 * submitted meanwhile is counted in: a run names its code manifest by a digest the client only
 * asked whether it is stored, which `asked-blobs.ts` does not note.
 */
async function collectBlobs(
  engine: Engine,
  fresh: number,
  runs: readonly RunRecord[],
  read: Read & { keptJobs?: ReadonlySet<string> },
): Promise<{ blobs: number; bytes: number }> {
  const { keptJobs } = read;
  const live = new Set<string>();
  const codeSeen = new Set<string>();
  // Each code manifest once: most runs share their code with others (a re-run, a changed variable),
  // and reading it per run took a minute of the lock on a server of 100,000 runs.
  const addCode = async (digests: Iterable<string>) => {
    for (const digest of digests) {
      if (codeSeen.has(digest)) continue;
      codeSeen.add(digest);
      live.add(digest);
      const code = await readCodeManifest(engine.blobs, digest).catch(notThere);
      for (const f of code?.files ?? []) if (f.digest) live.add(f.digest);
    }
  };
  await addCode(runs.map((r) => r.codeDigest));
  for (
    let after: string | undefined, page;
    (page = await engine.store.artifactsAfter(after, ARTIFACT_PAGE)).length > 0;
  ) {
    for (const { jobId, manifest } of page) {
      if (keptJobs && !keptJobs.has(jobId)) continue;
      for (const a of manifest.artifacts) for (const f of a.files) if (f.digest) live.add(f.digest);
    }
    after = page[page.length - 1]!.jobId;
    await turn();
  }
  for (const { jobId, digest } of await engine.store.allLogArchives())
    if (!keptJobs || keptJobs.has(jobId)) live.add(digest);
  const unnamed: { digest: string; size: number }[] = [];
  for await (const blob of engine.blobs.list()) {
    if (!live.has(blob.digest) && blob.storedAt <= fresh) unnamed.push(blob);
  }
  let blobs = 0;
  let bytes = 0;
  const seenNew = new Set<string>();
  for (const batch of batches(unnamed, BLOB_BATCH)) {
    const count = async () => {
      await addCode((await newRuns(engine, read, seenNew)).map((r) => r.codeDigest));
      // Several at once: on S3 each is a request, and a prune of thousands held submissions that long.
      await forEachLimit(batch, DELETES_IN_FLIGHT, async ({ digest, size }) => {
        // Asked about just before its deletion: a plan that starts after it finds the blob missing.
        if (live.has(digest) || askedSince(engine.blobs, digest, fresh)) return;
        if (!keptJobs) await engine.blobs.delete(digest);
        blobs++;
        bytes += size;
      });
    };
    await (keptJobs ? count() : engine.serialize(count));
    await turn();
  }
  return { blobs, bytes };
}

/**
 * Let the event loop turn: SQLite's answers come as resolved promises, so without this no
 * request that arrived meanwhile (a `dstack run` among them) is read before the next batch
 * takes the lock again, and no timer fires.
 */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
