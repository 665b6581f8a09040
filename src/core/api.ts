/** The HTTP API's request and response bodies, shared by the server and the typed client. */
import type { JobSpec } from './job-spec.js';
import type { Capacity } from './resources.js';
import type { TagElsewhere } from './projects.js';
import type {
  ArtifactManifest,
  JobEvent,
  JobRecord,
  LogEntry,
  ManifestEntry,
  RepoInfo,
  RunRecord,
  RunView,
  RunnerRecord,
} from './records.js';

/** A code snapshot: the project's files, each a blob. Stored itself as a JSON blob. */
export interface CodeManifest {
  files: ManifestEntry[];
}

/** A run as its submission answers: with why each job the cache did not answer runs anew, where an earlier job of its ref says (server/why-anew.ts). */
export type SubmittedRun = RunView & { anew?: Record<string, string> };

export interface SubmitRunRequest {
  workflow: string;
  overrides: Record<string, string>;
  repo: RepoInfo;
  codeDigest: string;
  jobs: JobSpec[];
  /** Tag the run with this name once it is DONE. */
  tag?: string;
  /** Run every job anew: no reuse of DONE jobs, no joining of running ones. */
  noCache?: boolean;
}

/** `dstack run --dry-run` against a server: the plan and the code, nothing stored. */
export interface PreviewRequest {
  jobs: JobSpec[];
  code: CodeManifest;
  /** The project's repo, as a submission would send it: tags resolve within its project. */
  repo: RepoInfo;
}

export interface RunPreview {
  /** Per tag dependency label (`prepare:latest`): the run it resolves to, or null. */
  tags: Record<string, string | null>;
  /** Per job ref that the cache would answer: the job it would reuse. */
  cached: Record<string, string>;
  /** The refs in `cached` whose job is another user's (JobRecord.cachedFromAnotherUser): shown without its id. */
  cachedFromAnotherUser?: string[];
  /** Per job ref that runs anew after an earlier job of the submitter's: what changed since (SubmittedRun.anew). */
  anew?: Record<string, string>;
  /** With a tag that does not resolve: the project it was looked for in; absent from older servers. */
  project?: string;
  /** Per tag dependency that does not resolve: the submitter's runs with that tag in other projects. */
  tagsElsewhere?: Record<string, TagElsewhere[]>;
  /**
   * Per job ref that no active runner could ever take: why, in the words the run would get, and
   * whether the run would fail it (the embedded server) rather than keep it waiting. Absent from older servers.
   */
  neverStarts?: Record<string, { reason: string; fails: boolean }>;
}

export interface StopRequestBody {
  target: string;
  abort?: boolean;
  /** Seconds between SIGTERM and SIGKILL (default 10). */
  grace?: number;
}

export interface TagRequest {
  tag: string;
  run: string;
}

/** A run just tagged; a run has one tag, so one it had before is gone, and dependencies on it with it. */
export interface TaggedRun extends RunView {
  /** The run's earlier tag, which this one replaced: only from a server before 2026-11-25 (a newer one refuses). */
  replaced?: string;
  /** The run had this tag already: nothing changed. */
  unchanged?: true;
}

/** What `DELETE /api/tags/TAG` did. */
export interface TagDeleted {
  ok: true;
  /**
   * The tag was no run's yet but promised to this unfinished run (`dstack run --tag`): the
   * promise is dropped, and the run ends untagged.
   */
  promisedTo?: string;
  /** The run that had the tag, and its project: the CLI says which, as it may stand outside any project. Older servers send neither. */
  run?: string;
  project?: string;
  /** Whose run it was, when not the caller's (an admin's `--user`). */
  user?: string;
}

export interface PruneRequest {
  /** Delete finished, untagged runs submitted more than this long ago, ms. */
  olderThanMs: number;
  /** Only runs of this project (core/projects.ts), as `dstack prune` asks where it stands; absent: every project's. */
  project?: string;
  /** Delete runs with a resumable job too; by default they are kept and listed in `keptStopped`. */
  includeStopped?: boolean;
}

export interface PruneResult {
  runs: string[];
  /** Blobs deleted, and their bytes. */
  blobs: number;
  bytes: number;
  /** Temp files that puts never finished left in the store (a crash), and their bytes; absent from servers before them. */
  leftovers?: { files: number; bytes: number };
  /** A dry run: what would be deleted; nothing was. */
  dryRun?: boolean;
  /** Runs old enough that were kept because a job of theirs can be resumed (job-status.ts `isResumable`); absent from older servers. */
  keptStopped?: string[];
  /** The project pruned; absent: every project's (or a server that prunes only so). */
  project?: string;
  /**
   * Runs old enough that were kept because a kept run reuses a job of theirs (the cache) or
   * depends on one (a tag), each with such a run where the caller may see it (`by`): another
   * user's is not named. Absent from older servers.
   */
  keptReused?: { run: string; by?: string }[];
  /** Users other than the caller whose runs are among `runs` (an admin prunes every user's). */
  otherUsers?: string[];
}

/** `GET /api/workflows`: a workflow that has runs in a project. */
export interface RunWorkflow {
  project: string;
  workflow: string;
}

export interface JobView {
  job: JobRecord;
  run: RunRecord;
  events: JobEvent[];
}

export interface LogLine extends LogEntry {
  jobId: string;
}

export interface LogsResponse {
  entries: LogLine[];
}

export interface RegisterRunnerRequest {
  name: string;
  /** The session its work dir recorded for a runner process that is gone (a crash): it may take over at once. */
  replaces?: string;
  /** The runner process's random id (`RunnerAgent`): the server refuses a process that is not the registered one. */
  session?: string;
  host: string;
  total: Capacity;
}

/** A runner shutting down: it gets no more work, and its jobs stop as `dstack stop` stops them, with `reason`. */
export interface DrainRunnerRequest {
  name: string;
  /** The runner process's random id (`RunnerAgent`): the server refuses a process that is not the registered one. */
  session?: string;
  reason: string;
}

/**
 * A runner stopping one of its own jobs as `dstack stop` does, with `reason` (a Slurm batch job that
 * Slurm is ending). A job stopping already keeps its stop; the answer is the job as it is then.
 */
export interface StopOwnJobRequest {
  reason: string;
  graceMs: number;
}

/** The name of the runner inside a server (the embedded default's, or `dstack server`'s own). */
export const LOCAL_RUNNER = 'local';

/** A runner shut down once its jobs ended: it is OFFLINE until it registers again. */
export interface LeaveRunnerRequest {
  name: string;
  /** The runner process's random id (`RunnerAgent`): the server refuses a process that is not the registered one. */
  session?: string;
}

/** The longest a runner waits between tries of a request a dropped connection failed, ms. */
export const RETRY_MAX_DELAY_MS = 5_000;

export interface ClaimRequest {
  name: string;
  /** The runner process's random id (`RunnerAgent`): the server refuses a process that is not the registered one. */
  session?: string;
  /** The jobs the runner holds: one assigned to it but not among them lost its answer and is offered again. */
  jobIds: string[];
  /** How long the server may hold the request open waiting for work, ms. */
  waitMs: number;
}

/** What a runner needs to run a job. */
export interface Assignment {
  job: JobRecord;
  run: RunRecord;
  /** The jobs it depends on, with their artifacts, to be placed in its workspace. */
  dependencies: { job: JobRecord; manifest: ArtifactManifest }[];
  /** A resumed job's own saved artifacts, restored before it starts. */
  restore?: ArtifactManifest;
  /** The last log sequence number already stored for this job (a resumed job continues after it). */
  logSeq: number;
  /**
   * The run's code manifest (the blob `run.codeDigest` names), when the server sends it along:
   * a one-shot runner's assignment carries it, so the code's files are the only request left
   * before the job's workspace is ready. Absent: the runner fetches the blob.
   */
  code?: CodeManifest;
}

export interface HeartbeatRequest {
  name: string;
  /** The runner process's random id (`RunnerAgent`): the server refuses a process that is not the registered one. */
  session?: string;
  jobIds: string[];
  waitMs: number;
  /** Its capacity again, when what it can run changed since it registered (a Docker engine came or went). */
  total?: Capacity;
}

export interface RunnerCommand {
  jobId: string;
  action: 'stop' | 'abort';
  /** For a stop: ms between SIGTERM and SIGKILL. */
  graceMs?: number;
  /**
   * For an abort of a job the server no longer gives the runner: why, for the job's log and the
   * runner's (`the server had ended it: FAILED: runner lost`). Older servers send none.
   */
  reason?: string;
}

export interface RunnerTransitionRequest {
  from: JobRecord['status'];
  to: JobRecord['status'];
  reason?: string;
  exitCode?: number;
  /**
   * With FAILED from RUNNING: the job's commands never started (its launch failed: an image
   * that cannot be pulled, a Python that cannot be had). RUNNING is reported as they start,
   * so the server cannot tell this from its statuses. Older servers ignore it.
   */
  commandsStarted?: false;
}

/** The server's answer to a runner's transition: the job as moved, or the status it has instead (a stop, say). */
export type RunnerTransitionAnswer = { ok: true; job: JobRecord } | { ok: false; actual: JobRecord['status'] };

export type { ArtifactManifest, JobRecord, RunView, RunnerRecord, LogEntry };

/** `GET /api/runners`: a runner with what it runs now and what it has left. */
export interface RunnerView extends Omit<RunnerRecord, 'status' | 'session'> {
  /** NOT STARTED: added (`dstack runners add`) but never registered; shown to admins, who hold its token. */
  status: RunnerRecord['status'] | 'NOT STARTED';
  /** Capacity not held by its unfinished jobs (the scheduler's figure). */
  free: Capacity;
  /** Its unfinished jobs that the caller may see (all of them for an admin). */
  jobs: JobRecord[];
  /** Its unfinished jobs of other users, counted only. */
  otherJobs: number;
}
