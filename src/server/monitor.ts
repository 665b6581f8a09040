/**
 * The server's periodic checks: runners that stopped heartbeating are marked LOST and
 * their jobs end FAILED `runner lost`; waiting jobs that no registered runner could ever
 * fit or run say so ("no runner has 2 GPUs", "no runner has a Docker engine (runners: cpu-box)",
 * "no runner has started (not started: gpu-box; …)"), or fail where no other runner will come.
 */
import { LOCAL_RUNNER, RETRY_MAX_DELAY_MS } from '../core/api.js';
import { DOCKER_ENGINE, howToGet, neverRuns, thisMachineLacks, type NeverRuns } from '../core/job-needs.js';
import type { JobRecord, RunnerRecord } from '../core/records.js';
import type { JobSpec } from '../core/job-spec.js';
import type { Engine } from './engine.js';
import { RUNNER_LOST } from '../core/job-status.js';

export interface MonitorOptions {
  /** A runner silent this long is lost, ms (default 60 s). */
  runnerTimeoutMs: number;
  /** How often to check, ms. */
  intervalMs?: number;
  /**
   * Fail a job no runner could ever fit rather than keep it waiting for a bigger runner to
   * register: the embedded server, whose one runner is this machine.
   */
  failUnfittable?: boolean;
}

/**
 * Mark runners silent for longer than `runnerTimeoutMs` lost. Silence counts from the last
 * heartbeat stored or heard (`RunnerPresence.lastHeard`: the store's write of it may have failed),
 * and from `since` at the earliest (the server's start): a runner cannot heartbeat a server
 * that is down, and one retrying waits up to RETRY_MAX_DELAY_MS before it tries again.
 */
export async function checkRunners(
  engine: Engine,
  runnerTimeoutMs: number,
  now = Date.now(),
  since = 0,
): Promise<void> {
  for (const runner of await engine.store.listRunners()) {
    const heard = Math.max(runner.updatedAt, engine.presence.lastHeard(runner.name));
    if (runner.status !== 'ACTIVE' || now - Math.max(heard, since + RETRY_MAX_DELAY_MS) <= runnerTimeoutMs) continue;
    await engine.store.setRunnerStatus(runner.name, 'LOST');
    engine.logger.warn(`runner ${runner.name} lost: no heartbeat for ${Math.round((now - heard) / 1000)}s`);
    await engine.failJobsOf(runner.name, RUNNER_LOST, 'server');
  }
}

/**
 * Give each waiting job the reason it cannot start anywhere, or clear it once a runner could
 * take it; with `failUnfittable`, fail a job that active runners exist for but none could fit.
 */
export async function explainWaiting(engine: Engine, failUnfittable = false): Promise<void> {
  const waiting = (await engine.store.jobsByStatus(['SUBMITTED'])).filter((j) => !j.cachedFrom);
  await explainJobs(engine, waiting, failUnfittable);
}

/**
 * `explainWaiting` for the jobs of one submission, before it is answered (submit.ts): the answer
 * then says what became of them (`dstack run -d` exits 1 for a job the embedded server failed).
 * Whether any job changed, so that the run is read again.
 */
export async function explainSubmitted(engine: Engine, jobs: readonly JobRecord[]): Promise<boolean> {
  const waiting = jobs.filter((j) => j.status === 'SUBMITTED' && !j.cachedFrom);
  return waiting.length > 0 && (await explainJobs(engine, waiting, engine.failUnfittable));
}

/** Give each of `waiting` its reason, or fail it (`failUnfittable`); whether any changed. */
async function explainJobs(engine: Engine, waiting: readonly JobRecord[], failUnfittable: boolean): Promise<boolean> {
  const registered = await engine.store.listRunners();
  const runners = registered.filter((r) => r.status === 'ACTIVE');
  const noneOnline = runners.length === 0 && waiting.length > 0 ? await noRunnerOnline(engine, registered) : '';
  const away = registered.filter((r) => r.status !== 'ACTIVE');
  let changed = false;
  const told = new Map<string | null, string[]>(); // each reason to set, and the jobs that get it
  for (const job of waiting) {
    const never = runners.length === 0 ? undefined : neverStarts(job.spec, runners, away, failUnfittable);
    if (never?.fails) {
      const failed = await engine.transition(job.id, 'SUBMITTED', 'FAILED', { reason: never.reason }, 'server');
      changed = failed.ok || changed;
      continue;
    }
    const reason = runners.length === 0 ? noneOnline : never?.reason;
    const current = job.reason && /^no (online )?runner/.test(job.reason) ? job.reason : undefined;
    if (reason === current) continue;
    const ids = told.get(reason ?? null);
    if (ids) ids.push(job.id);
    else told.set(reason ?? null, [job.id]);
  }
  // A statement per reason for all its jobs: a job each was a transaction each, 10,000 of them
  // for a big run submitted while no runner was online.
  for (const [reason, ids] of told)
    changed = (await engine.updateMany(ids, 'SUBMITTED', { reason })).length > 0 || changed;
  return changed;
}

/**
 * What becomes of a job that none of the active `runners` (at least one) could ever take: it
 * fails (`failUnfittable`: on the embedded server, `this machine does not have 1 GPU`) or waits
 * (`no runner has 2 GPUs`), and why; undefined when one could take it. `dstack run --dry-run`
 * says the same of the jobs it plans (submit.ts previewRun).
 */
export function neverStarts(
  spec: JobSpec,
  runners: readonly RunnerRecord[],
  away: readonly RunnerRecord[],
  failUnfittable: boolean,
): { reason: string; fails: boolean } | undefined {
  const why = noRunnerCan(spec, runners);
  if (why === undefined) return undefined;
  if (!failUnfittable) return { reason: withRunnersAway(spec, why.reason, away), fails: false };
  const how = howToGet(spec, runners[0]!.total);
  const failure = runners.length === 1 ? thisMachineLacks(why.first, how) : why.reason;
  return { reason: failure, fails: true };
}

/** Runners named in a waiting reason at most; more are counted. */
const NAMED_RUNNERS = 5;

/**
 * Why nothing runs when no runner is active. A runner added (`dstack runners add`) but never
 * started has a token and no record: named, as `dstack runners` lists it NOT STARTED, since
 * "no runner is registered" sent its admin looking for a runner that was never missing.
 */
async function noRunnerOnline(engine: Engine, registered: readonly RunnerRecord[]): Promise<string> {
  const known = new Set(registered.map((r) => r.name));
  const added = (await engine.store.listTokens('runner'))
    .map((t) => t.name)
    .filter((name) => !known.has(name) && !(name === LOCAL_RUNNER && engine.runsLocalRunner));
  const none = registered.length === 0 ? 'no runner has started' : 'no runner is online';
  if (added.length === 0) return registered.length === 0 ? 'no runner is registered' : none;
  const more = added.length > NAMED_RUNNERS ? ` and ${added.length - NAMED_RUNNERS} more` : '';
  const where = added.length === 1 ? 'on its machine' : "on each one's machine";
  return (
    `${none} (not started: ${added.slice(0, NAMED_RUNNERS).join(', ')}${more}; ` +
    `run the 'dstack runner start' that 'dstack runners add' printed ${where})`
  );
}

/**
 * `reason` (no active runner could take `job`), naming the OFFLINE or LOST runners that could:
 * `no online runner has 4 CPUs; r3 (offline since 2026-05-01 09:30 UTC) could take it`. Without
 * them, "no runner has 4 CPUs" sent an admin looking for a bigger machine when one was only down.
 */
function withRunnersAway(spec: JobSpec, reason: string, away: readonly RunnerRecord[]): string {
  const could = away.filter((r) => neverRuns(spec, r.total) === null);
  if (could.length === 0) return reason;
  const named = could
    .slice(0, NAMED_RUNNERS)
    .map((r) => `${r.name} (${r.status.toLowerCase()} since ${utcMinute(r.updatedAt)})`);
  const more = could.length > NAMED_RUNNERS ? ` and ${could.length - NAMED_RUNNERS} more` : '';
  return `${reason.replace(/^no runner /, 'no online runner ')}; ${named.join(', ')}${more} could take it`;
}

/** A time as `2026-05-01 09:30 UTC`: a reason is stored, so not "5 minutes ago", which would go stale. */
const utcMinute = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Why none of `runners` could ever take `job`, and what the first lacks; undefined when one could.
 */
function noRunnerCan(spec: JobSpec, runners: readonly RunnerRecord[]): { reason: string; first: string } | undefined {
  const lacking: RunnerLack[] = [];
  for (const r of runners) {
    const never = neverRuns(spec, r.total);
    if (never === null) return undefined;
    const problem = never.ability === DOCKER_ENGINE ? r.total.dockerProblem : undefined;
    lacking.push({ name: r.name, ...never, ...(problem ? { dockerProblem: problem } : {}) });
  }
  return whyNoRunner(lacking);
}

/**
 * What one runner lacks for a job (NeverRuns), by name; `dockerProblem`: why its Docker engine
 * does not answer, as the runner told it (`none answers at /var/run/docker.sock (permission denied): …`).
 */
export type RunnerLack = NeverRuns & { name: string; dockerProblem?: string };

/** A runner named in a reason, with why its Docker engine does not answer, cut before the hint that follows. */
const named = (r: RunnerLack) => (r.dockerProblem ? `${r.name} (${r.dockerProblem.split(': ')[0]})` : r.name);

/**
 * Why no runner can take a job, from what each lacks (at least one), and what the first lacks.
 * All too small alike: `no runner has 2 GPUs`. Lacking something it must run with, the runners
 * are named, for an admin to know which to fix: `no runner has a Docker engine (runners: cpu-box)`.
 * Where they lack different things, each one's lack: `no runner has what it needs (cpu-box: 3.0GB
 * of memory; gpu-box: 2 GPUs)`, not the first's alone, which another runner may have.
 */
export function whyNoRunner(lacking: readonly RunnerLack[]): { reason: string; first: string } {
  const texts = lacking.map((m) => [m.size, m.ability].filter((t) => t !== null).join(' and '));
  const first = texts[0]!;
  const more = lacking.length > NAMED_RUNNERS ? ` and ${lacking.length - NAMED_RUNNERS} more` : '';
  if (texts.every((t) => t === first)) {
    if (lacking.every((m) => m.ability === null)) return { reason: `no runner has ${first}`, first };
    const names = lacking.slice(0, NAMED_RUNNERS).map(named);
    return { reason: `no runner has ${first} (runners: ${names.join(', ')}${more})`, first };
  }
  const each = lacking.slice(0, NAMED_RUNNERS).map((r, i) => `${named(r)}: ${texts[i]!}`);
  return { reason: `no runner has what it needs (${each.join('; ')}${more})`, first };
}

/**
 * A resumed job is checked at once (a submission checks its own jobs before it is answered:
 * `explainSubmitted`), and such checks come at most this often, ms: a job no runner can ever
 * fit says so (or, on the embedded server, fails) as it is resumed, not at the next tick, up to
 * 5 s later, while a followed run said it was "waiting for a free runner". Each check reads
 * every waiting job, so a burst of resumes costs one a second.
 */
const NEW_WORK_CHECK_MS = 1000;

export function startMonitor(engine: Engine, options: MonitorOptions): () => void {
  const interval = options.intervalMs ?? Math.min(5000, Math.max(200, options.runnerTimeoutMs / 4));
  const stopNewWorkChecks = checkNewWork(engine, options.failUnfittable ?? false);
  let busy = false;
  let since = Date.now();
  let lastTick = since;
  const timer = setInterval(() => {
    const now = Date.now();
    // A tick far later than due: this process was paused (a laptop's sleep, SIGSTOP), and
    // runners could no more reach it than it could hear them. Silence counts from now, as
    // from a start; its own runner, inside it, was paused with it.
    if (now - lastTick > Math.max(3 * interval, options.runnerTimeoutMs / 2)) since = now;
    lastTick = now;
    if (busy) return;
    busy = true;
    void checkRunners(engine, options.runnerTimeoutMs, now, since)
      .catch((e: unknown) => {
        // The store failed (its database down): runners' requests failed on it too, their
        // token's look-up first, so silence counts from its recovery, as from a start.
        since = Date.now();
        throw e;
      })
      .then(() => explainWaiting(engine, options.failUnfittable))
      .catch((e) => engine.logger.error('monitor check failed', { error: String(e) }))
      .finally(() => (busy = false));
  }, interval);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopNewWorkChecks();
  };
}

/** Explain (or fail) what can never start as soon as it is resumed (Engine.newWork); returns how to stop. */
function checkNewWork(engine: Engine, failUnfittable: boolean): () => void {
  let due: NodeJS.Timeout | undefined;
  let last = 0;
  const check = () => {
    due = undefined;
    last = Date.now();
    explainWaiting(engine, failUnfittable).catch((e) =>
      engine.logger.error('monitor check failed', { error: String(e) }),
    );
  };
  const onWork = () => {
    due ??= setTimeout(check, Math.max(0, last + NEW_WORK_CHECK_MS - Date.now()));
    due.unref();
  };
  engine.events.on('new-work', onWork);
  return () => {
    engine.events.off('new-work', onWork);
    clearTimeout(due);
  };
}
