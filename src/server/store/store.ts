/**
 * The state store: runs, jobs, job events, runners, tokens, artifact manifests, tags.
 * Implemented over SQLite (default) and PostgreSQL; one conformance suite runs on both.
 */
import type { RunWorkflow } from '../../core/api.js';
import type { Capacity } from '../../core/resources.js';
import type { JobStatus, TransitionResult } from '../../core/job-status.js';
import type {
  ArtifactManifest,
  JobEvent,
  JobRecord,
  RunRecord,
  RunnerRecord,
  StopRequest,
} from '../../core/records.js';
import type { AdminFlagChange } from './admin-flag.js';
import type { RepoStore } from './repo-store.js';

export interface TokenRecord {
  /** sha256 hex of the token: the token itself is never stored. */
  hash: string;
  kind: 'user' | 'runner';
  /** User name, or runner name for runner tokens. */
  name: string;
  admin: boolean;
  createdAt: number;
}

/** What else a job must match for a transition to apply. */
/** Which job: enough to point a new job at it (`cachedFrom`) and say where it runs. */
export interface JobRef {
  id: string;
  runName: string;
}

/** A job that needs another (reuses or joins it, or waits on it): prune.ts keeps that one's run. */
export interface JobNeed extends JobRef {
  /** The id of the job it needs. */
  needs: string;
}

export interface TransitionGuard {
  /** The runner the job is assigned to. */
  runner?: string;
}

/** Fields a transition may set along with the status. */
export interface TransitionPatch {
  reason?: string | null;
  exitCode?: number | null;
  runner?: string | null;
  gpus?: JobRecord['gpus'] | null;
  startedAt?: number | null;
  finishedAt?: number | null;
  stopRequest?: StopRequest | null;
  stopGraceMs?: number | null;
  cachedFrom?: string | null;
  /** Goes with `cachedFrom`: set (or cleared) whenever it is, from this field (absent: false). */
  cachedFromAnotherUser?: boolean;
  /** A waiting job's key, changed when a dependency it was keyed on is no longer the one it gets. */
  cacheKey?: string;
  resumed?: boolean;
  /** Whether the latest attempt's commands started (JobRecord.commandsStarted). */
  commandsStarted?: boolean;
}

/** What a prune decides on about a job: its run, status, resume facts, and the jobs it needs. */
export type JobFacts = Pick<
  JobRecord,
  'id' | 'runName' | 'status' | 'cachedFrom' | 'dependsOn' | 'resumed' | 'commandsStarted' | 'stopRequest'
>;

export interface RunQuery {
  /** Only runs with at least one unfinished job. */
  unfinished?: boolean;
  /** The newest N (by submission time), newest first. */
  limit?: number;
  user?: string;
  /** Only runs of this project (core/projects.ts `projectKey`). */
  project?: string;
  /** Only runs of this workflow (the one `dstack run` was given). */
  workflow?: string;
  /** Only runs whose status (core `runStatus` of their jobs') is this. */
  status?: JobStatus;
  /** Only runs submitted at or after this time (epoch ms). */
  since?: number;
}

/** Where a tag names a run: among one user's runs of one project. */
export interface TagScope {
  user: string;
  project: string;
}

/** A finished job's log as archived in the blob store (storage/log-archive.ts). */
export interface LogArchive {
  /** The blob holding the log file up to `bytes`: its whole appends. */
  digest: string;
  bytes: number;
  /** The last entry's sequence number in it. */
  lastSeq: number;
  /** Epoch ms. */
  archivedAt: number;
}

/** A Slurm job a Slurm backend submitted and follows (backends/slurm/tracker.ts): its job's latest submission. */
export interface SlurmJobRecord {
  jobId: string;
  slurmId: string;
  /** Epoch ms of the sbatch. */
  submittedAt: number;
  /** The submission's folder (batch.ts attemptDir); absent in records of versions that had one per job. */
  dir?: string;
  /** Epoch ms when a stop's `scancel --signal=TERM` was sent. */
  termAt?: number;
  /** Epoch ms when the Slurm job was cancelled (an abort, or a stop whose grace ran out). */
  cancelAt?: number;
  /** Epoch ms when Slurm first showed the job ended by itself (time limit, a cancel outside dstack). */
  endedAt?: number;
}

/** A job a short id matched: enough to name it, or to say which jobs an ambiguous one matches. */
export interface JobIdMatch {
  id: string;
  runName: string;
  ref: string;
}

export interface Store extends RepoStore {
  /** Create or upgrade the schema. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  createToken(token: TokenRecord): Promise<void>;
  findToken(hash: string): Promise<TokenRecord | undefined>;
  /** Tokens of one kind (users or runners), by name. */
  listTokens(kind: TokenRecord['kind']): Promise<TokenRecord[]>;
  /** Delete every token of that kind and name; returns how many there were. */
  deleteTokens(kind: TokenRecord['kind'], name: string): Promise<number>;
  /**
   * Replace every token of that kind and name with one of `hash`, in one transaction: the old
   * ones stop working at once (in this process's token cache too). The new token keeps the
   * name's admin flag and the creation time of its oldest token; undefined when it had none.
   */
  replaceTokens(kind: TokenRecord['kind'], name: string, hash: string): Promise<TokenRecord | undefined>;
  /** Delete the token of this hash (in this process's token cache too); false when there was none. */
  deleteToken(hash: string): Promise<boolean>;
  /**
   * Make user `name` an admin or not, on every token of theirs (in this process's token cache
   * too); a demotion that would leave no admin is refused (`last-admin`).
   */
  setAdmin(name: string, admin: boolean): Promise<AdminFlagChange>;

  /** Insert a run and its jobs atomically, with a SUBMITTED event per job. Conflict if the name exists. */
  createRun(run: RunRecord, jobs: JobRecord[], actor: string): Promise<void>;
  getRun(name: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(query: RunQuery): Promise<RunRecord[]>;
  /** Each workflow that `user`'s runs (anyone's, absent) have, with its project, once; by project, then workflow (code point order). */
  runWorkflows(user?: string): Promise<RunWorkflow[]>;
  /** Names that start with `prefix` (for run-name numbering). */
  countRunsWithPrefix(prefix: string): Promise<number>;

  getJob(id: string): Promise<JobRecord | undefined>;
  /**
   * The jobs whose id starts with `prefix` (a short id the user typed), of `user`'s runs (every
   * user's, absent); at most `limit`, by id.
   */
  jobsWithIdPrefix(prefix: string, user: string | undefined, limit: number): Promise<JobIdMatch[]>;
  /** Jobs of these runs, in the order they were planned. */
  jobsOfRuns(runNames: readonly string[]): Promise<JobRecord[]>;
  /**
   * Every job's links and status, without its spec (a prune's reading of the whole store), or
   * only those of the jobs of `runNames`; by run then planned order.
   */
  allJobFacts(runNames?: readonly string[]): Promise<JobFacts[]>;
  /** The jobs that reuse or join one of `jobIds`, or wait on one, each with the job it needs (in no order). */
  jobsNeeding(jobIds: readonly string[]): Promise<JobNeed[]>;
  /** Jobs in any of these statuses, oldest submitted first. */
  jobsByStatus(statuses: readonly JobStatus[]): Promise<JobRecord[]>;
  /** Jobs held by a runner that are not finished. */
  activeJobsOfRunner(runner: string): Promise<JobRecord[]>;
  /**
   * A page of the SUBMITTED jobs a runner may take: not waiting on an identical job
   * (`cachedFrom` unset) and every dependency DONE (a missing one is not). Oldest submitted
   * first, then in planned order, as `jobsByStatus`.
   */
  readyJobs(limit: number, offset: number): Promise<JobRecord[]>;
  /**
   * The jobs in `status` that depend on `jobId` (SUBMITTED: those waiting on it), oldest
   * submitted first. Only jobs stored unfinished have dependency rows: one stored finished (a
   * cached copy) is never among them.
   */
  dependentsIn(jobId: string, status: JobStatus): Promise<JobRecord[]>;
  /** Whether every job of the run is DONE. */
  allJobsDone(runName: string): Promise<boolean>;
  /** The jobs with these ids, by id; unknown ids are absent. */
  jobsByIds(ids: readonly string[]): Promise<Map<string, JobRecord>>;

  /**
   * The one way a job's status changes: `UPDATE … WHERE id = ? AND status = from`,
   * checked against the status machine, with an event appended in the same transaction.
   * With `guard.runner`, also `AND runner = ?`: a job assigned elsewhere is left alone and
   * answers as a status mismatch (the caller then finds out which it was).
   */
  transition(
    id: string,
    from: JobStatus,
    to: JobStatus,
    patch: TransitionPatch,
    actor: string,
    guard?: TransitionGuard,
  ): Promise<TransitionResult<JobRecord>>;
  /** Set fields without a status change (a waiting reason, a stop request), guarded by status. */
  updateJob(id: string, expected: JobStatus, patch: TransitionPatch): Promise<TransitionResult<JobRecord>>;
  /**
   * `updateJob` of many jobs with one patch, in one transaction: those still in `expected`
   * (others, and unknown ids, are left alone and absent from the answer), as updated.
   */
  updateJobs(ids: readonly string[], expected: JobStatus, patch: TransitionPatch): Promise<JobRecord[]>;
  events(jobId: string): Promise<JobEvent[]>;

  /** The newest DONE job with this cache key that ran itself (not a cached copy). */
  findDoneJob(cacheKey: string): Promise<JobRecord | undefined>;
  /** An unfinished job with this cache key that runs itself: a new identical job joins it. */
  findActiveJob(cacheKey: string): Promise<JobRecord | undefined>;
  /** `findDoneJob` for many keys at once, by key (the job's id and run); keys without one are absent. */
  findDoneJobs(cacheKeys: readonly string[]): Promise<Map<string, JobRef>>;
  /** `findActiveJob` for many keys at once, by key (the job's id and run); keys without one are absent. */
  findActiveJobs(cacheKeys: readonly string[]): Promise<Map<string, JobRef>>;
  /** Unfinished jobs that wait on `jobId` to reuse its result. */
  followersOf(jobId: string): Promise<JobRecord[]>;

  /** Name a run in its user's and project's scope (`tag` null removes its tag). ConflictError when another run there has the tag. */
  setTag(runName: string, tag: string | null): Promise<void>;
  /** The run tagged `tag` in `scope`: tags are per user and project, as `dstack status` is. */
  getRunByTag(scope: TagScope, tag: string): Promise<RunRecord | undefined>;
  /**
   * An unfinished run in `scope` (other than `except`) submitted with `--tag tag`: the tag is
   * promised to it, as it gets the tag once it ends DONE.
   */
  runPromisedTag(scope: TagScope, tag: string, except?: string): Promise<RunRecord | undefined>;
  /** The run submitted with `--tag` is no longer to get it (`dstack resume --no-tag`). NotFoundError for an unknown run. */
  dropTagPromise(runName: string): Promise<void>;
  /**
   * Give the run the tag it is promised, as the promise stands at that moment (one dropped since
   * the run was read gives none); returns the tag given. ConflictError when another run has it.
   */
  keepTagPromise(runName: string): Promise<string | undefined>;
  /** Unfinished runs submitted with `--tag`, untagged yet (runPromisedTag's, of every scope), newest first. */
  promisedTagRuns(): Promise<RunRecord[]>;
  /** Runs that have a tag, newest first. */
  taggedRuns(): Promise<RunRecord[]>;
  /** Delete runs with their jobs, events, artifact manifests, log archives' and Slurm jobs' records. */
  deleteRuns(names: readonly string[]): Promise<void>;
  /**
   * A page of the stored artifact manifests, in job id order: the first `limit` whose job id
   * comes after `after` (from the first: undefined). For housekeeping, a page at a time.
   */
  artifactsAfter(after: string | undefined, limit: number): Promise<{ jobId: string; manifest: ArtifactManifest }[]>;

  setArtifacts(jobId: string, manifest: ArtifactManifest): Promise<void>;
  getArtifacts(jobId: string): Promise<ArtifactManifest | undefined>;
  /** The manifests stored for these jobs, by job id. */
  artifactsOf(jobIds: readonly string[]): Promise<Map<string, ArtifactManifest>>;

  /** Record where a finished job's log was archived (replacing an earlier archive of it). NotFoundError when the job is gone. */
  setLogArchive(jobId: string, archive: LogArchive): Promise<void>;
  getLogArchive(jobId: string): Promise<LogArchive | undefined>;
  /** Late lines came: the job's archive holds less than its log (its blob still restores what it holds). */
  markLogArchiveStale(jobId: string): Promise<void>;
  /** Every archived log's blob, by job id (for housekeeping). */
  allLogArchives(): Promise<{ jobId: string; digest: string }[]>;
  /** Finished jobs with a log of their own (not cached copies) that have no archive, or an out-of-date one. */
  unarchivedLogs(): Promise<string[]>;

  /** The Slurm jobs the Slurm backend named `backend` follows. */
  slurmJobs(backend: string): Promise<SlurmJobRecord[]>;
  /** Record (or replace) the Slurm job that runs a job for `backend`. NotFoundError when the job is gone. */
  putSlurmJob(backend: string, job: SlurmJobRecord): Promise<void>;
  /** Forget a job's record if it is still that of Slurm job `slurmId`; says whether it did. */
  deleteSlurmJob(jobId: string, slurmId: string): Promise<boolean>;

  upsertRunner(runner: RunnerRecord): Promise<void>;
  getRunner(name: string): Promise<RunnerRecord | undefined>;
  listRunners(): Promise<RunnerRecord[]>;
  /**
   * Mark the runner seen at `at`; its status (a runner marked LOST that calls in is back).
   * With `session` (null: none), only while that is the registered session: else nothing
   * changes and the answer is `REPLACED` (another process registered as this runner).
   */
  heartbeat(name: string, at: number, session?: string | null): Promise<RunnerRecord['status'] | 'REPLACED'>;
  setRunnerStatus(name: string, status: RunnerRecord['status']): Promise<void>;
  /** Replace a registered runner's capacity (what it can run changed); nothing when it is not registered. */
  setRunnerTotal(name: string, total: Capacity): Promise<void>;
  /** Forget a runner (its token deleted); false when it never registered. */
  deleteRunner(name: string): Promise<boolean>;
}
