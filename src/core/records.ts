/**
 * The records dstack keeps: runs, jobs, their events, runners, artifacts. These are
 * the shapes the store returns and the API sends (JSON-safe: times are epoch milliseconds).
 */
import type { JobSpec } from './job-spec.js';
import type { JobStatus } from './job-status.js';
import type { Capacity, GpuInfo } from './resources.js';

export interface RepoInfo {
  /** Absolute path of the project root on the submitting machine (for display). */
  root: string;
  remote?: string;
  branch?: string;
  commit?: string;
  dirty?: boolean;
  /** The project root's folder inside the git repo (`ml/train`), absent at its top: runners clone the whole repo. */
  subdir?: string;
}

export interface RunRecord {
  name: string;
  /** The workflow `dstack run` was given. */
  workflow: string;
  /** Variables given on the command line (`--model 117M`). */
  overrides: Record<string, string>;
  tag?: string;
  /** Tag to apply when the run finishes DONE (`dstack run --tag`). */
  tagOnDone?: string;
  repo: RepoInfo;
  /** The project the run belongs to: `projectKey(repo)` (core/projects.ts), set by the server. */
  project: string;
  /** Digest of the code manifest blob. */
  codeDigest: string;
  submittedAt: number;
  user: string;
  /** Submitted with `--no-cache`: its jobs neither reuse nor join others, and a resume keeps to that. */
  noCache?: true;
}

export type StopRequest = 'stop' | 'abort';

export interface JobRecord {
  /** 12 hex digits. */
  id: string;
  runName: string;
  ref: string;
  workflow: string;
  spec: JobSpec;
  cacheKey: string;
  /** Ids of the jobs this one waits for (same run or a tagged run). */
  dependsOn: string[];
  status: JobStatus;
  /** Why the job is in its status: set for every terminal status, and for a job that waits. */
  reason?: string;
  exitCode?: number;
  runner?: string;
  gpus?: GpuInfo[];
  /** The DONE job whose results this one reuses (or the running one it waits for). */
  cachedFrom?: string;
  /**
   * `cachedFrom` is a job of another user's run: texts say "another user's job", never its id
   * or run (the cache is the team's; whose work it is, is not).
   */
  cachedFromAnotherUser?: true;
  stopRequest?: StopRequest;
  /** With a stop: how long the job has between SIGTERM and SIGKILL, ms. */
  stopGraceMs?: number;
  /** True when the job has run before and must start from its saved artifacts. */
  resumed?: boolean;
  /**
   * Whether the commands of the job's latest attempt started: true once it went RUNNING; false
   * once it was resumed, until then, or when its runner said they never did (a launch that
   * failed: an image that cannot be pulled). Absent before either (stores before migration 0013).
   * A resumed job that FAILED with this false can be resumed again (job-status.ts `isResumable`).
   */
  commandsStarted?: boolean;
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/**
 * The job whose artifacts `job` hands on: the DONE job it reuses or the running one it joined
 * (`cachedFrom`), or itself. What its dependents download, and what their cache keys count
 * (submit.ts): a dependent made from one producer's artifacts is not the one for another's.
 */
export function producer(job: Pick<JobRecord, 'id' | 'cachedFrom'>): string {
  return job.cachedFrom ?? job.id;
}

/** How a text names a job's `cachedFrom` when it is another user's (that job's id and run are theirs). */
export const ANOTHER_USERS_JOB = "another user's job";

/** The job a cached or waiting job reuses, as a text names it: `job ID`, or only whose it is. */
export function cacheSource(job: Pick<JobRecord, 'cachedFrom' | 'cachedFromAnotherUser'>): string {
  return job.cachedFromAnotherUser ? ANOTHER_USERS_JOB : `job ${job.cachedFrom}`;
}

export interface JobEvent {
  jobId: string;
  at: number;
  from: JobStatus | null;
  to: JobStatus;
  reason?: string;
  actor: string;
}

export interface RunnerRecord {
  name: string;
  host: string;
  total: Capacity;
  /** ACTIVE: heard from within the runner timeout; LOST: silent past it; OFFLINE: shut down cleanly (`leave`). */
  status: 'ACTIVE' | 'LOST' | 'OFFLINE';
  updatedAt: number;
  registeredAt: number;
  /** The random id of the runner process that registered; absent for one that sent none. */
  session?: string;
}

/**
 * One file of a code snapshot or an artifact, stored as a sha256 blob; a symlink; or, in
 * artifacts only, a folder with nothing saved below it (others are implied by their entries).
 */
export interface ManifestEntry {
  path: string;
  /** Bytes; 0 for links and folders. */
  size: number;
  mode: number;
  /** sha256 hex of the content; absent for symlinks and folders. */
  digest?: string;
  /** Target of a symlink (relative, inside the artifact). */
  link?: string;
  /**
   * An empty folder (neither digest nor link). An older server stores the entry without this
   * field: with neither digest nor link, which every restore, older or newer, skips.
   */
  folder?: true;
}

export interface ArtifactManifest {
  /** The artifact paths as declared, each with the files found under it. */
  artifacts: { path: string; files: ManifestEntry[] }[];
}

export interface LogEntry {
  /** Per job, from 1, with no gaps: lets a runner re-send and the server keep each entry once. */
  seq: number;
  /** Epoch milliseconds: when the entry's lines were read (they arrived together). */
  ts: number;
  stream: 'stdout' | 'stderr';
  /**
   * One or more whole lines of the stream joined by '\n', without the final newline: the
   * lines read at one time, up to about 64 KiB (one object per line cost six serialisations
   * a line between the job and a reader). Bytes that are not UTF-8 show as U+FFFD (then
   * `raw` has them, and the entry holds one line).
   */
  text: string;
  /** The last line goes on in the next entry of its stream: output that went a while without a newline, or a very long line. */
  partial?: boolean;
  /** base64 of the exact bytes, present only when they are not valid UTF-8 (binary output). */
  raw?: string;
}

/** A run as the API returns it: the run, its jobs and its derived status. */
export interface RunView extends RunRecord {
  status: JobStatus;
  jobs: JobRecord[];
}
