/**
 * Why the jobs of a submission that the cache did not answer run anew: each is compared with the
 * last DONE job of its ref among its user's recent runs of the project (core/why-anew.ts). Only
 * the submitter's own runs: another user's variables and files are theirs. A first run, or one
 * with `--no-cache`, has nothing to say.
 */
import type { CodeManifest } from '../core/api.js';
import { countedCode } from '../core/inputs.js';
import { producer, type JobRecord, type RunRecord } from '../core/records.js';
import { whyAnew, type KeyFacts } from '../core/why-anew.js';
import { readSubmittedCodeManifest } from './code.js';
import type { Engine } from './engine.js';
import type { TagScope } from './store/store.js';

/** Runs looked back through for the last job of a ref. */
const RECENT_RUNS = 20;

/** By job ref: why it runs anew (`variable epochs 30 → 40; train.py changed`). */
export async function explainAnew(
  engine: Engine,
  scope: TagScope,
  run: { name: string; codeDigest: string; manifest: CodeManifest },
  jobs: readonly JobRecord[],
): Promise<Record<string, string>> {
  const anew = jobs.filter((j) => !j.cachedFrom);
  if (anew.length === 0) return {};
  // The run itself may be stored already: only earlier ones count.
  const runs = (await engine.store.listRuns({ ...scope, limit: RECENT_RUNS + 1 })).filter((r) => r.name !== run.name);
  const last = lastDone(runs, await engine.store.jobsOfRuns(runs.map((r) => r.name)));
  const before = anew.flatMap((job) => {
    const found = last.get(job.ref);
    return found ? [{ job, ...found }] : [];
  });
  if (before.length === 0) return {};
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const elsewhere = [...new Set([...anew, ...before.map((b) => b.previous)].flatMap((j) => j.dependsOn))];
  for (const [id, job] of await engine.store.jobsByIds(elsewhere.filter((id) => !byId.has(id)))) byId.set(id, job);
  const producers = (job: JobRecord) => job.dependsOn.map((id) => (byId.has(id) ? producer(byId.get(id)!) : id));
  const manifests = new Map([[run.codeDigest, run.manifest]]);
  const manifestOf = async (digest: string) => {
    if (!manifests.has(digest)) manifests.set(digest, await readSubmittedCodeManifest(engine.blobs, digest));
    return manifests.get(digest)!;
  };
  const facts = (job: JobRecord, manifest: CodeManifest): KeyFacts => ({
    spec: job.spec,
    code: countedCode(manifest.files, job.spec.inputs),
    producers: producers(job),
  });
  const out: Record<string, string> = {};
  for (const { job, previous, codeDigest } of before) {
    const manifest = await manifestOf(codeDigest).catch(() => undefined); // pruned since: not said
    if (!manifest) continue;
    const reasons = whyAnew(facts(previous, manifest), facts(job, run.manifest));
    if (previous.cacheKey === job.cacheKey) {
      out[job.ref] = `job ${producer(previous)} did the same, and its artifacts are no longer stored`;
      continue;
    }
    if (reasons.length === 0) {
      if (job.spec.image) continue;
      reasons.push("the environment of the server's runner changed");
    }
    // Named by the job that did the work: a cached copy's id says less.
    out[job.ref] = `${reasons.join('; ')} (since job ${producer(previous)})`;
  }
  return out;
}

/** By ref, the newest DONE job among `runs` (newest first), with its run's code. */
function lastDone(
  runs: readonly RunRecord[],
  jobs: readonly JobRecord[],
): Map<string, { previous: JobRecord; codeDigest: string }> {
  const order = new Map(runs.map((r) => [r.name, r]));
  const rank = new Map(runs.map((r, i) => [r.name, i]));
  const out = new Map<string, { previous: JobRecord; codeDigest: string }>();
  const sorted = jobs.filter((j) => j.status === 'DONE').sort((a, b) => rank.get(a.runName)! - rank.get(b.runName)!);
  for (const job of sorted) {
    if (!out.has(job.ref)) out.set(job.ref, { previous: job, codeDigest: order.get(job.runName)!.codeDigest });
  }
  return out;
}
