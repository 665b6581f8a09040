/**
 * The engine: the server's state changes, in one place. Every job transition goes
 * through `transition`, which applies it as a guarded update, tells whoever waits
 * (log followers, long-polling runners) and carries out its consequences: a job that
 * ends badly ends the jobs waiting on it, and a finished job may free work.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  isFinished,
  isResumable,
  isTakenBack,
  leavesFailed,
  dependencyEnded,
  resumableFailure,
  type JobStatus,
  type TransitionResult,
} from '../core/job-status.js';
import type { JobRecord, RunRecord } from '../core/records.js';
import type { Logger } from '../logger.js';
import type { BlobStore } from './storage/blob-store.js';
import type { LogArchive } from './storage/log-archive.js';
import type { LogStore } from './storage/log-store.js';
import type { Store, TransitionGuard, TransitionPatch } from './store/store.js';
import { RunnerPresence } from './runner-presence.js';
import { TOKEN_CACHE_MS } from './store/token-cache.js';

export interface EngineParts {
  store: Store;
  blobs: BlobStore;
  logs: LogStore;
  logger: Logger;
}

/**
 * A runner this server runs itself (the Slurm backend's), whose token the server keeps and
 * hands on: nobody starts it with a token, so a new one is the server's to make and to use.
 */
export interface ManagedRunner {
  /** Put a new token in place of the runner's and use it from now on; the old one is refused. */
  replaceToken(): Promise<void>;
}

export class Engine {
  /** `job` (JobRecord) after every transition or job update; `work` when a runner may find something to claim. */
  readonly events = new EventEmitter();
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly logs: LogStore;
  readonly logger: Logger;
  private queue: Promise<void> = Promise.resolve();
  private closing = false;
  private works = 0;
  private readonly waiters = new Set<Promise<unknown>>();
  /** When runners were last heard from, and which get no new work. */
  readonly presence = new RunnerPresence(() => this.wakeRunners());
  /** The runners this process runs itself, by name (`ManagedRunner`). */
  readonly managedRunners = new Map<string, ManagedRunner>();
  /**
   * Whether this process runs the local runner (server.ts): only then is `local` its own, made
   * again at each start. A server started without one may delete the one an earlier start ran.
   */
  runsLocalRunner = false;
  /**
   * Fail a job no runner could ever fit rather than keep it waiting (the embedded server, whose
   * one runner is this machine: server.ts); read by the checks of submissions (monitor.ts).
   */
  failUnfittable = false;
  /** How often runners should heartbeat: well inside the server's runner timeout. */
  heartbeatMs = 10_000;
  /** How long a runner may be silent before it is lost, ms: until then its process holds its name. */
  runnerTimeoutMs = 60_000;
  /**
   * How often a long-lived request (a followed log, a long-polled claim) asks whether its token
   * still holds, ms: the token cache's lifetime, so that most asks are cache hits.
   */
  tokenRecheckMs = TOKEN_CACHE_MS;
  /** When this server started, ms since the epoch: runners could not be heard before (see `checkRunners`). */
  startedAt = Date.now();
  /**
   * A digest of the environment jobs on the host run in, where one runner runs them all (the
   * embedded server's own): their cache keys count it, so that a job run in another venv, or
   * with other programs on its PATH, is not taken for one run before.
   */
  hostEnvironment: string | undefined;
  /** Where finished jobs' logs are archived, when the server's storage is not its own disk (server.ts). */
  logArchive: LogArchive | undefined;

  constructor(parts: EngineParts) {
    ({ store: this.store, blobs: this.blobs, logs: this.logs, logger: this.logger } = parts);
    this.events.setMaxListeners(0);
  }

  transition(
    id: string,
    from: JobStatus,
    to: JobStatus,
    patch: TransitionPatch,
    actor: string,
    guard?: TransitionGuard,
  ): Promise<TransitionResult<JobRecord>> {
    return this.apply(id, from, to, patch, actor, guard, true);
  }

  /**
   * `transition`; `causeResumable` false for a job failed because its dependency failed for
   * good, which no resume of its own can mend (`endDependents`).
   */
  private async apply(
    id: string,
    from: JobStatus,
    to: JobStatus,
    patch: TransitionPatch,
    actor: string,
    guard: TransitionGuard | undefined,
    causeResumable: boolean,
  ): Promise<TransitionResult<JobRecord>> {
    const now = Date.now();
    const full: TransitionPatch = { ...patch };
    if (to === 'RUNNING' && full.startedAt === undefined) full.startedAt = now;
    if (to === 'RUNNING' && full.commandsStarted === undefined) full.commandsStarted = true;
    // Why it waited (`slurm 12: PENDING`, `no runner has 2 GPUs`) no longer holds once it runs.
    if (to === 'RUNNING' && full.reason === undefined) full.reason = null;
    if (isFinished(to) && full.finishedAt === undefined) full.finishedAt = now;
    let resumable = false;
    // Read only where it decides something: not for a job failed for good by its dependency.
    if (from === 'FAILED' || (to === 'FAILED' && causeResumable)) {
      const job = await this.store.getJob(id);
      // Another status now: the guarded update below refuses it and says which.
      if (job?.status === from) {
        if (from === 'FAILED' && !leavesFailed(job, to)) return { ok: false, reason: 'not_allowed', from, to };
        resumable = to === 'FAILED' && isResumable(failedAs(job, full));
        // Said where every reader of the job sees it: its status, the run's view, its events.
        if (resumable) full.reason = resumableFailure(full.reason ?? job.reason ?? 'failed', job.runName);
      }
    }
    const result = await this.store.transition(id, from, to, full, actor, guard);
    if (!result.ok) {
      this.logger.debug('transition refused', { job: id, from, to, result: result.reason });
      return result;
    }
    const job = result.value;
    this.logger.info(`job ${id} ${from} -> ${to}`, { run: job.runName, reason: job.reason, actor });
    this.events.emit('job', job);
    if (isFinished(to)) await this.onFinished(job, resumable, from);
    else if (to === 'SUBMITTED') this.newWork(); // a resumed job
    return result;
  }

  /** Update fields of a job without changing its status; followers are told. */
  async update(id: string, expected: JobStatus, patch: TransitionPatch): Promise<TransitionResult<JobRecord>> {
    const result = await this.store.updateJob(id, expected, patch);
    if (result.ok) this.events.emit('job', result.value);
    return result;
  }

  /** `update` of many jobs with one patch, in one transaction; those still in `expected`, as updated. */
  async updateMany(ids: readonly string[], expected: JobStatus, patch: TransitionPatch): Promise<JobRecord[]> {
    const updated = await this.store.updateJobs(ids, expected, patch);
    for (const job of updated) this.events.emit('job', job);
    return updated;
  }

  /** Counts wakeRunners calls: a claim that found nothing fitting can tell whether work came since. */
  get workVersion(): number {
    return this.works;
  }

  wakeRunners(): void {
    this.works++;
    this.events.emit('work');
  }

  /** Jobs were resumed: runners are woken, and the monitor told ('new-work'); a submission checks its own. */
  newWork(): void {
    this.events.emit('new-work');
    this.wakeRunners();
  }

  /** Run `fn` alone: submissions are serialised so that identical jobs submitted at once run once. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * End `runner`'s unfinished jobs FAILED with `reason` (it was lost, left or was deleted),
   * all but those in `holds`: the ones a registering runner still has (or is saving, as a
   * restarted one saves the workspaces its previous process left). `reason` may depend on the
   * job's status. Returns how many it ended.
   */
  async failJobsOf(
    runner: string,
    reason: string | ((status: JobStatus) => string),
    actor: string,
    holds: readonly string[] = [],
  ): Promise<number> {
    const ending = (await this.store.activeJobsOfRunner(runner)).filter((job) => !holds.includes(job.id));
    for (const job of ending) {
      const why = typeof reason === 'string' ? reason : reason(job.status);
      await this.transition(job.id, job.status, 'FAILED', { reason: why }, actor);
    }
    return ending.length;
  }

  /**
   * `resumable`: it FAILED and can be resumed, its dependencies with it (resumableFailure).
   * `from`: its status before.
   */
  private async onFinished(job: JobRecord, resumable: boolean, from: JobStatus): Promise<void> {
    await this.settleFollowers(job);
    if (job.status === 'DONE') {
      // Asked of the store, not read from the run's jobs: each finished job would otherwise read the whole run.
      if (await this.store.allJobsDone(job.runName)) {
        const run = await this.store.getRun(job.runName);
        if (run) await this.onRunDone(run);
      }
    } else {
      await this.endDependents(job, resumable);
      // Only after a take-back: a stop of a 1,000-job run asks nothing more per job.
      if (job.status === 'STOPPED' && (from === 'FAILED' || isTakenBack(job.reason))) await this.reviveDependents(job);
    }
    this.wakeRunners();
  }

  /** A run whose jobs are all DONE gets the tag it was submitted with (`dstack run --tag`). */
  async onRunDone(run: RunRecord): Promise<void> {
    if (!run.tagOnDone || run.tag === run.tagOnDone) return;
    try {
      // The promise as it stands now: a `tags delete` since the run was read has dropped it.
      const tag = await this.store.keepTagPromise(run.name);
      if (tag !== undefined) this.logger.info(`run ${run.name} tagged ${tag}`);
    } catch (e) {
      this.logger.warn(`could not tag run ${run.name} as ${run.tagOnDone}`, { error: String(e) });
    }
  }

  /** Jobs that joined this one finish with it when it is DONE, and run themselves when it is not. */
  private async settleFollowers(job: JobRecord): Promise<void> {
    for (const follower of await this.store.followersOf(job.id)) await this.settleFollower(follower, job);
  }

  private async settleFollower(follower: JobRecord, leader: JobRecord): Promise<void> {
    if (follower.status !== 'SUBMITTED') return;
    if (leader.status === 'DONE') {
      await this.transition(follower.id, 'SUBMITTED', 'DONE', { reason: 'cached', exitCode: 0 }, 'server');
    } else if ((await this.update(follower.id, 'SUBMITTED', { cachedFrom: null, reason: null })).ok) {
      await this.rekeyDependents(follower.id);
    }
  }

  /**
   * Jobs just stored or resumed as followers: one whose leader finished between the cache's
   * look-up and its write was not among the followers the leader's end settled, and is settled
   * now, rather than left waiting for good.
   */
  async settleLateFollowers(jobs: readonly JobRecord[]): Promise<void> {
    const followers = jobs.filter((j) => j.status === 'SUBMITTED' && j.cachedFrom !== undefined);
    if (followers.length === 0) return;
    const leaders = await this.store.jobsByIds(followers.map((j) => j.cachedFrom!));
    for (const follower of followers) {
      const leader = leaders.get(follower.cachedFrom!);
      if (leader && isFinished(leader.status)) await this.settleFollower(follower, leader);
    }
  }

  /**
   * A follower that runs itself makes its own artifacts, not those of the job it followed,
   * which its waiting dependents' keys count (records.ts `producer`): they get keys of their
   * own, so that none is ever reused as made from the other job's artifacts.
   */
  private async rekeyDependents(jobId: string): Promise<void> {
    for (const dependent of await this.store.dependentsIn(jobId, 'SUBMITTED')) {
      const cacheKey = createHash('sha256').update(`${dependent.cacheKey}:made-from:${jobId}`).digest('hex');
      await this.update(dependent.id, 'SUBMITTED', { cacheKey });
    }
  }

  /**
   * Jobs waiting on a job that ended badly can never run as they are. A stopped one's stop with it,
   * resumable with it (`dstack resume RUN`); a failed or aborted one's fail, resumable with it
   * when it is (`resumable`: it failed in a resume before its commands started). Each says why,
   * and so do theirs.
   */
  private async endDependents(job: JobRecord, resumable: boolean): Promise<void> {
    const stopped = job.status === 'STOPPED';
    const word = stopped ? 'stopped' : job.status === 'ABORTED' ? 'aborted' : 'failed';
    for (const dependent of await this.store.dependentsIn(job.id, 'SUBMITTED')) {
      const reason = dependencyEnded(word, job);
      await this.apply(
        dependent.id,
        'SUBMITTED',
        stopped ? 'STOPPED' : 'FAILED',
        stopped ? { reason, cachedFrom: null } : { reason },
        'server',
        undefined,
        resumable,
      );
    }
  }

  /**
   * A job lost with its runner, taken back by it and stopped (job-status.ts `canTakeBack`): the
   * dependents that failed with it, never started, stop with it instead, so that `dstack resume`
   * takes them with it, unless another of their dependencies has ended for good meanwhile.
   */
  private async reviveDependents(job: JobRecord): Promise<void> {
    for (const dependent of await this.store.dependentsIn(job.id, 'FAILED')) {
      const dependencies = [...(await this.store.jobsByIds(dependent.dependsOn)).values()];
      // Failed by one of them (another taken back earlier, say), and none has failed for good.
      if (!dependencies.some((d) => dependent.reason === dependencyEnded('failed', d))) continue;
      if (dependencies.some((d) => d.status === 'FAILED' || d.status === 'ABORTED')) continue;
      const reason = dependencyEnded('stopped', job);
      await this.transition(dependent.id, 'FAILED', 'STOPPED', { reason, cachedFrom: null }, 'server');
    }
  }

  /**
   * Wait until `check` returns a value, re-checking on each of `on` (job changes, or new
   * work for runners), for at most `ms`. With `waitFirst`, the first check waits for one of them
   * too (the caller knows what it would say now).
   */
  waitFor<T>(
    check: () => Promise<T | undefined>,
    ms: number,
    signal?: AbortSignal,
    on: readonly ('job' | 'work')[] = ['job', 'work'],
    waitFirst = false,
  ): Promise<T | undefined> {
    if (this.closing) return Promise.resolve(undefined);
    const waiting = this.waitLoop(check, ms, signal, [...on, 'close'], waitFirst);
    this.waiters.add(waiting);
    return waiting.finally(() => this.waiters.delete(waiting));
  }

  private async waitLoop<T>(
    check: () => Promise<T | undefined>,
    ms: number,
    signal: AbortSignal | undefined,
    on: readonly string[],
    waitFirst: boolean,
  ): Promise<T | undefined> {
    const deadline = Date.now() + ms;
    for (let first = true; ; first = false) {
      if (!(first && waitFirst)) {
        const value = await check();
        if (value !== undefined) return value;
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || this.closing) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          for (const event of on) this.events.off(event, done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        for (const event of on) this.events.once(event, done);
        signal?.addEventListener('abort', done, { once: true });
      });
      // Woken to close or by a caller gone away: no more checks against a store that is closing.
      if (signal?.aborted || this.closing) return undefined;
    }
  }

  /** End every wait (long-polled claims and heartbeats) before the store closes under them. */
  async close(): Promise<void> {
    this.closing = true;
    this.events.emit('close');
    await Promise.allSettled([...this.waiters]);
  }
}

/** `job` as a transition to FAILED with `patch` leaves it. */
function failedAs(job: JobRecord, patch: TransitionPatch): JobRecord {
  const commandsStarted = patch.commandsStarted ?? job.commandsStarted;
  const stopRequest = patch.stopRequest === undefined ? job.stopRequest : (patch.stopRequest ?? undefined);
  return { ...job, status: 'FAILED', commandsStarted, stopRequest };
}
