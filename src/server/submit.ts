/**
 * Submitting a run: resolve each planned job's dependencies (same run or tagged runs),
 * give it an id and a cache key, and decide whether it runs, reuses a DONE job with the
 * same key, or joins one that is running now. Submissions are serialised so that two
 * identical runs at once run the shared work once.
 */
import { randomBytes } from 'node:crypto';
import type { CodeManifest, PreviewRequest, RunPreview, SubmitRunRequest, SubmittedRun } from '../core/api.js';
import { cacheKey, codeDigest } from '../core/cache-key.js';
import { closest } from '../core/suggest.js';
import { ConflictError, InvalidError, NotFoundError } from '../core/errors.js';
import { dependencyLabel, type JobSpec } from '../core/job-spec.js';
import { runStatus } from '../core/job-status.js';
import { producer, type JobRecord, type RunRecord, type RunView } from '../core/records.js';
import { countedCode } from '../core/inputs.js';
import { projectKey, tagElsewhereHint, type TagElsewhere } from '../core/projects.js';
import { runNamePrefix } from '../core/run-names.js';
import { readSubmittedCodeManifest } from './code.js';
import { explainSubmitted, neverStarts } from './monitor.js';
import { explainAnew } from './why-anew.js';
import { runViews } from './queries.js';
import { checkTagFree } from './tag-check.js';
import type { Engine } from './engine.js';
import type { JobRef, TagScope } from './store/store.js';

/** Ids of `n` new jobs: 12 hex digits each, from one call for all (a call per job was 5 ms a thousand). */
function newJobIds(n: number): (i: number) => string {
  const random = randomBytes(6 * n);
  return (i) => random.toString('hex', 6 * i, 6 * i + 6);
}

export async function submitRun(
  engine: Engine,
  user: string,
  request: SubmitRunRequest & { noCache?: boolean },
): Promise<SubmittedRun> {
  const scope = { user, project: projectKey(request.repo) };
  const { view, manifest } = await engine.serialize(async () => {
    if (request.tag !== undefined) await checkTagFree(engine, scope, request.tag);
    const manifest = await readSubmittedCodeManifest(engine.blobs, request.codeDigest);
    const now = Date.now();
    const jobs = await resolveJobs(engine, scope, manifest, request.jobs, now, request.noCache ?? false);
    return { view: await insert(engine, scope, request, jobs, now), manifest };
  });
  // Outside the lock (it may read an earlier run's code from storage): compared with earlier runs.
  const anew = request.noCache
    ? {}
    : await explainAnew(engine, scope, { ...request, manifest, name: view.name }, view.jobs);
  const answer = await explained(engine, view);
  return Object.keys(anew).length > 0 ? { ...answer, anew } : answer;
}

/**
 * The run as submitted, once a job no runner can ever fit has its reason, or has failed on the
 * embedded server, and its dependents with it: checked before the answer, not after it, so that
 * `dstack run -d` can say a run failed as it was submitted rather than print its name and exit 0.
 */
async function explained(engine: Engine, view: RunView): Promise<RunView> {
  if (!(await explainSubmitted(engine, view.jobs))) return view;
  const [again] = await runViews(engine.store, [view]);
  return again ?? view;
}

/**
 * What a submission by `user` would do, without doing it (`dstack run --dry-run`): where each
 * tag dependency resolves, and which jobs the cache would reuse.
 */
export async function previewRun(engine: Engine, user: string, request: PreviewRequest): Promise<RunPreview> {
  const scope = { user, project: projectKey(request.repo) };
  const never = await neverStartsOf(engine, request.jobs);
  const tags: Record<string, string | null> = {};
  const missing = new Map<string, string>(); // label → tag, of those that do not resolve
  for (const spec of request.jobs) {
    for (const dep of spec.dependsOn) {
      if ('ref' in dep) continue;
      const label = dependencyLabel(dep);
      tags[label] = (await engine.store.getRunByTag(scope, dep.tag))?.name ?? null;
      if (tags[label] === null) missing.set(label, dep.tag);
    }
  }
  const cached: Record<string, string> = {};
  const anotherUsers: string[] = [];
  // With a tag that does not resolve, keys cannot be computed: say where tags stand and stop there.
  if (missing.size === 0) {
    const jobs = await resolveJobs(engine, scope, request.code, request.jobs, Date.now(), false);
    for (const job of jobs) {
      if (job.cachedFrom) cached[job.ref] = job.cachedFrom;
      if (job.cachedFromAnotherUser) anotherUsers.push(job.ref);
    }
    // No digest of its code is stored yet: the earlier runs' manifests are read.
    const anew = await explainAnew(engine, scope, { codeDigest: '', manifest: request.code, name: '' }, jobs);
    return {
      tags,
      cached,
      ...(anotherUsers.length > 0 ? { cachedFromAnotherUser: anotherUsers } : {}),
      ...(Object.keys(anew).length > 0 ? { anew } : {}),
      ...never,
    };
  }
  const elsewhere: Record<string, TagElsewhere[]> = {};
  const tagged = missing.size > 0 ? await engine.store.taggedRuns() : [];
  for (const [label, tag] of missing) {
    const found = tagElsewhere(tagged, scope, tag);
    if (found.length > 0) elsewhere[label] = found;
  }
  return { tags, cached, project: scope.project, tagsElsewhere: elsewhere, ...never };
}

/** The planned jobs no active runner could ever take (RunPreview.neverStarts), as a submission would find them. */
async function neverStartsOf(engine: Engine, specs: readonly JobSpec[]): Promise<Pick<RunPreview, 'neverStarts'>> {
  const registered = await engine.store.listRunners();
  const runners = registered.filter((r) => r.status === 'ACTIVE');
  // None online: the run would wait for one, as `dstack status` would then say.
  if (runners.length === 0) return {};
  const away = registered.filter((r) => r.status !== 'ACTIVE');
  const found: Record<string, { reason: string; fails: boolean }> = {};
  for (const spec of specs) {
    const never = neverStarts(spec, runners, away, engine.failUnfittable);
    if (never) found[spec.ref] = never;
  }
  return Object.keys(found).length > 0 ? { neverStarts: found } : {};
}

/**
 * Job records for planned specs: ids, resolved dependencies, cache keys, and reuse unless
 * `noCache`. A job's key counts the job that made each dependency's artifacts, so whether a
 * dependency is reused, joined or run anew is settled before its dependents' keys: the specs
 * go level by level (a level's dependencies all in earlier ones), each level's look-ups made
 * at once.
 */
async function resolveJobs(
  engine: Engine,
  scope: TagScope,
  manifest: CodeManifest,
  specs: readonly JobSpec[],
  now: number,
  noCache: boolean,
): Promise<JobRecord[]> {
  const byRef = new Map<string, JobRecord>();
  const jobs: JobRecord[] = [];
  const newJobId = newJobIds(specs.length);
  const code = codeDigests(manifest);
  for (const level of levels(specs)) {
    const planned: JobRecord[] = [];
    for (const spec of level) {
      if (byRef.has(spec.ref)) throw new InvalidError(`job ref '${spec.ref}' appears twice in the run`);
      const deps = await resolveDependencies(engine, scope, spec, byRef);
      const job: JobRecord = {
        id: newJobId(jobs.length),
        runName: '',
        ref: spec.ref,
        workflow: spec.workflow,
        spec,
        cacheKey: jobKey(engine, code(spec.inputs), spec, deps),
        dependsOn: deps.map((d) => d.id),
        status: 'SUBMITTED',
        submittedAt: now,
      };
      byRef.set(spec.ref, job);
      jobs.push(job);
      planned.push(job);
    }
    if (!noCache) await reuse(engine, scope.user, planned, now);
  }
  return jobs;
}

/**
 * Planned specs in levels: each spec after every spec of this run it depends on. The planner
 * orders specs that way already, so a level is a run of specs with no dependency among them.
 */
function levels(specs: readonly JobSpec[]): JobSpec[][] {
  const out: JobSpec[][] = [];
  let level: JobSpec[] = [];
  let refs = new Set<string>();
  for (const spec of specs) {
    if (spec.dependsOn.some((dep) => 'ref' in dep && refs.has(dep.ref))) {
      out.push(level);
      level = [];
      refs = new Set();
    }
    level.push(spec);
    refs.add(spec.ref);
  }
  if (level.length > 0) out.push(level);
  return out;
}

/**
 * A job's cache key: the code it sees, its spec, the jobs that make its dependencies'
 * artifacts (`deps` in `dependsOn` order) and, for a job on the host of the server's own
 * runner, that runner's environment.
 */
export function jobKey(engine: Engine, code: string, spec: JobSpec, deps: readonly JobRecord[]): string {
  return cacheKey(code, spec, deps.map(producer), spec.image ? undefined : engine.hostEnvironment);
}

/**
 * The digest of the code that a job with `inputs` counts, of `manifest`: jobs with the same
 * `inputs` (most have none) see the same code, so each is taken once.
 */
export function codeDigests(manifest: CodeManifest): (inputs: string[] | undefined) => string {
  const digests = new Map<string, string>();
  return (inputs) => {
    const which = JSON.stringify(inputs ?? []);
    let digest = digests.get(which);
    if (digest === undefined) digests.set(which, (digest = codeDigest(countedCode(manifest.files, inputs))));
    return digest;
  };
}

async function resolveDependencies(
  engine: Engine,
  scope: TagScope,
  spec: JobSpec,
  byRef: Map<string, JobRecord>,
): Promise<JobRecord[]> {
  const deps: JobRecord[] = [];
  for (const dep of spec.dependsOn) {
    if ('ref' in dep) {
      const job = byRef.get(dep.ref);
      if (!job) throw new InvalidError(`job '${spec.ref}' depends on '${dep.ref}', which is not planned before it`);
      deps.push(job);
      continue;
    }
    deps.push(...(await tagged(engine, scope, dep.tag, dep.workflow)));
  }
  return deps;
}

/** The jobs of the run tagged `tag` in `scope`: those of `workflow`, or all of them when no workflow is named. */
async function tagged(engine: Engine, scope: TagScope, tag: string, workflow?: string): Promise<JobRecord[]> {
  const run = await engine.store.getRunByTag(scope, tag);
  const label = workflow ? `${workflow}:${tag}` : `:${tag}`;
  // Led by `depends-on 'LABEL': `, which the CLI turns into the entry's place in the file.
  if (!run) {
    const tagged = await engine.store.taggedRuns();
    const hint = tagElsewhereHint(tag, tagElsewhere(tagged, scope, tag)) ?? nearTagHint(tagged, scope, tag);
    throw new NotFoundError(
      `depends-on '${label}': tag '${tag}' does not exist in project ${scope.project}; ${hint ?? "see 'dstack tags list'"}`,
    );
  }
  const jobs = (await engine.store.jobsOfRuns([run.name])).filter((j) => !workflow || j.workflow === workflow);
  if (jobs.length === 0) {
    throw new NotFoundError(
      `depends-on '${label}': run '${run.name}' (tag '${tag}') has no job of workflow '${workflow}'`,
    );
  }
  return jobs;
}

/**
 * The runs of `scope.user` tagged `tag` in other projects than `scope.project`: only ever the
 * submitter's own. Read where a tag is missing, an error's path: every tagged run, as `tags list --all`.
 */
function tagElsewhere(tagged: readonly RunRecord[], scope: TagScope, tag: string): TagElsewhere[] {
  return tagged
    .filter((r) => r.user === scope.user && r.tag === tag && r.project !== scope.project)
    .map((r) => ({ project: r.project, run: r.name }));
}

/** `did you mean tag 'best' (run R)?`, for a misspelt tag (`bset`) of the submitter's in this project. */
function nearTagHint(tagged: readonly RunRecord[], scope: TagScope, tag: string): string | undefined {
  const mine = tagged.filter((r) => r.user === scope.user && r.project === scope.project && r.tag !== undefined);
  const near = closest(
    tag,
    mine.map((r) => r.tag!),
  );
  const run = mine.find((r) => r.tag === near);
  return run && `did you mean tag '${near}' (run ${run.name})?`;
}

/**
 * Point each job at a DONE job with its key whose artifacts are all stored, or have it join a
 * running one. The look-ups only read the store (submissions are serialised), so they are
 * made for all jobs at once: a few statements for the whole run rather than several per job.
 */
export async function reuse(engine: Engine, user: string, jobs: JobRecord[], now: number): Promise<void> {
  const keys = jobs.map((j) => j.cacheKey);
  const done = await engine.store.findDoneJobs(keys);
  // A job that declares no artifacts stores no manifest, and has none to lose: the cache key
  // counts the declaration, so the DONE job under the same key declared none either.
  const declares = (job: JobRecord) => job.spec.artifacts.length > 0;
  const checked = jobs.filter(declares).flatMap((j) => done.get(j.cacheKey)?.id ?? []);
  const intact = await artifactsIntact(engine, [...new Set(checked)]);
  const reusable = (job: JobRecord) => {
    const source = done.get(job.cacheKey);
    return source && (!declares(job) || intact.has(source.id)) ? source : undefined;
  };
  const running = await engine.store.findActiveJobs(jobs.filter((j) => !reusable(j)).map((j) => j.cacheKey));
  const others = await othersRuns(engine, user, [...done.values(), ...running.values()]);
  for (const job of jobs) {
    const done = reusable(job);
    const source = done ?? running.get(job.cacheKey);
    if (!source) continue;
    const theirs = others.has(source.runName);
    job.cachedFrom = source.id;
    if (theirs) job.cachedFromAnotherUser = true;
    if (done) Object.assign(job, { status: 'DONE', reason: 'cached', finishedAt: now, exitCode: 0 });
    // The reason is stored and shown to whoever reads the job: it names no other user's run or job.
    else
      job.reason = `waiting for the same job ${theirs ? "(another user's job)" : `in ${source.runName} (${source.id})`}`;
  }
}

/** Which of the runs of these jobs are not `user`'s: each run read once (a cached re-run's sources share a few). */
async function othersRuns(engine: Engine, user: string, sources: readonly JobRef[]): Promise<Set<string>> {
  const names = [...new Set(sources.map((s) => s.runName))];
  const runs = await Promise.all(names.map((name) => engine.store.getRun(name)));
  return new Set(runs.flatMap((run) => (run && run.user !== user ? [run.name] : [])));
}

/** Which of these jobs have a stored manifest whose every blob is stored. */
async function artifactsIntact(engine: Engine, jobIds: readonly string[]): Promise<Set<string>> {
  const manifests = await engine.store.artifactsOf(jobIds);
  const digestsOf = new Map(
    [...manifests].map(([id, m]) => [
      id,
      m.artifacts.flatMap((a) => a.files.flatMap((f) => (f.digest ? [f.digest] : []))),
    ]),
  );
  const missing = new Set(await engine.blobs.missing([...new Set([...digestsOf.values()].flat())]));
  return new Set([...digestsOf].filter(([, digests]) => digests.every((d) => !missing.has(d))).map(([id]) => id));
}

async function insert(
  engine: Engine,
  { user, project }: TagScope,
  request: SubmitRunRequest,
  jobs: JobRecord[],
  now: number,
): Promise<RunView> {
  for (let attempt = 0; ; attempt++) {
    const prefix = runNamePrefix();
    const name = `${prefix}-${(await engine.store.countRunsWithPrefix(`${prefix}-`)) + 1}`;
    const run: RunRecord = {
      name,
      workflow: request.workflow,
      overrides: request.overrides,
      repo: request.repo,
      project,
      codeDigest: request.codeDigest,
      submittedAt: now,
      user,
    };
    if (request.tag !== undefined) run.tagOnDone = request.tag;
    if (request.noCache) run.noCache = true;
    const named = jobs.map((j) => ({ ...j, runName: name }));
    try {
      await engine.store.createRun(run, named, `user:${user}`); // the actor, as its other events name it
    } catch (e) {
      if (e instanceof ConflictError && attempt < 20) continue; // another run took the name
      throw e;
    }
    engine.logger.info(`run ${name} submitted`, { workflow: request.workflow, jobs: named.length, user });
    await engine.settleLateFollowers(named);
    engine.wakeRunners(); // the monitor's check of new work is `explained`, before the answer
    const view = { ...run, status: runStatus(named.map((j) => j.status)), jobs: named };
    if (named.every((j) => j.status === 'DONE')) await engine.onRunDone(run);
    return view;
  }
}
