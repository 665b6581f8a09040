/**
 * The database schema as kysely sees it: one interface per table, snake_case columns.
 * Types are written so the same queries run on SQLite and PostgreSQL: JSON is text,
 * times are bigint epoch milliseconds, booleans are written as 0/1.
 */
import type { ColumnType, Generated } from 'kysely';
import type { JobStatus } from '../../core/job-status.js';
import type { RunnerRecord, StopRequest } from '../../core/records.js';
import type { ReposTable } from './repo-store.js';
import type { TokenRecord } from './store.js';

/** The SQL engine under a store: the few places that differ (autoincrement) ask for it. */
export type SqlDialect = 'sqlite' | 'postgres';

/** Epoch ms in a bigint column. PostgreSQL drivers read bigints back as strings, so reads go through `Number`. */
export type EpochMs = ColumnType<number | string | bigint, number, number>;
/** A count or size in a bigint column, read through `Number` as EpochMs is. */
export type BigCount = ColumnType<number | string | bigint, number, number>;
export type NullableEpochMs = ColumnType<number | string | bigint | null, number | null, number | null>;
/** better-sqlite3 cannot bind JS booleans, so 0/1 is written; SQLite reads back 0/1, PostgreSQL booleans. */
export type Bool = ColumnType<boolean | number, number, number>;
export type NullableBool = ColumnType<boolean | number | null, number | null, number | null>;

export interface TokensTable {
  hash: string;
  kind: TokenRecord['kind'];
  name: string;
  admin: Bool;
  created_at: EpochMs;
}

export interface RunsTable {
  name: string;
  workflow: string;
  /** JSON object of variable overrides. */
  overrides: string;
  tag: string | null;
  tag_on_done: string | null;
  /** JSON RepoInfo. */
  repo: string;
  /** The repo's project key (core/projects.ts), for listing and tags within a project. */
  project: string;
  code_digest: string;
  submitted_at: EpochMs;
  user: string;
  /** Submitted with `--no-cache` (migration 0011); null: with the cache, or stored before. */
  no_cache: NullableBool;
}

export interface JobsTable {
  id: string;
  run_name: string;
  /** Position in the run's plan, from 0: `jobsOfRuns` returns jobs in this order. */
  seq: number;
  ref: string;
  workflow: string;
  /** JSON JobSpec. */
  spec: string;
  cache_key: string;
  /** JSON array of job ids. */
  depends_on: string;
  status: JobStatus;
  reason: string | null;
  exit_code: number | null;
  runner: string | null;
  /** JSON GpuInfo[]. */
  gpus: string | null;
  cached_from: string | null;
  /** Whether `cached_from` is another user's job (0015): JobRecord.cachedFromAnotherUser. */
  cached_from_another_user: NullableBool;
  stop_request: StopRequest | null;
  /** Set with a stop: SIGTERM to SIGKILL, ms (added by 0002). */
  stop_grace_ms: number | null;
  resumed: NullableBool;
  /** Whether the latest attempt's commands started (0013): JobRecord.commandsStarted. */
  commands_started: NullableBool;
  submitted_at: EpochMs;
  started_at: NullableEpochMs;
  finished_at: NullableEpochMs;
}

export interface JobEventsTable {
  id: Generated<number | string>;
  job_id: string;
  at: EpochMs;
  from_status: JobStatus | null;
  to_status: JobStatus;
  reason: string | null;
  actor: string;
}

/** One row per dependency of a job (0006); `jobs.depends_on` keeps their order. */
export interface JobDepsTable {
  job_id: string;
  dep_id: string;
}

export interface ArtifactsTable {
  job_id: string;
  /** JSON ArtifactManifest. */
  manifest: string;
}

/** A finished job's log as archived in the blob store (0012). */
export interface LogArchivesTable {
  job_id: string;
  /** The blob holding the log file's whole appends. */
  digest: string;
  bytes: BigCount;
  last_seq: BigCount;
  archived_at: EpochMs;
}

/** A Slurm job a Slurm backend submitted and still follows (0014): its dstack job's latest submission. */
export interface SlurmJobsTable {
  job_id: string;
  /** The backend's runner name (`slurm` by default). */
  backend: string;
  slurm_id: string;
  submitted_at: EpochMs;
  dir: string | null;
  term_at: NullableEpochMs;
  cancel_at: NullableEpochMs;
  ended_at: NullableEpochMs;
}

export interface RunnersTable {
  name: string;
  host: string;
  /** JSON Capacity. */
  total: string;
  status: RunnerRecord['status'];
  updated_at: EpochMs;
  registered_at: EpochMs;
  /** The registered process's session id (0010); null when it sent none. */
  session: string | null;
}

/** All tables of the store, for `Kysely<Database>`. */
export interface Database {
  tokens: TokensTable;
  runs: RunsTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  job_deps: JobDepsTable;
  artifacts: ArtifactsTable;
  log_archives: LogArchivesTable;
  slurm_jobs: SlurmJobsTable;
  runners: RunnersTable;
  repos: ReposTable;
}
