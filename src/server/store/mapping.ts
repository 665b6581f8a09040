/**
 * Row ↔ record mapping: JSON text, 0/1 booleans and bigint times on the row side;
 * records on the other. A NULL column becomes an absent field (never `key: undefined`),
 * so a record read back deep-equals the record stored.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { JobEvent, JobRecord, RunRecord, RunnerRecord } from '../../core/records.js';
import type { JobEventsTable, JobsTable, RunnersTable, RunsTable, TokensTable } from './schema.js';
import type { TokenRecord, TransitionPatch } from './store.js';

/** bigint columns come back as strings from PostgreSQL; all stored times fit a JS number. */
function num(value: number | string | bigint): number {
  return Number(value);
}

function optNum(value: number | string | bigint | null): number | undefined {
  return value === null ? undefined : Number(value);
}

function bool(value: boolean | number): boolean {
  return value === true || value === 1;
}

function bit(value: boolean): number {
  return value ? 1 : 0;
}

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Drop keys whose value is undefined, so optional fields are absent rather than present-and-undefined. */
function compact<T extends object>(record: T): T {
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) delete (record as Record<string, unknown>)[key];
  }
  return record;
}

/** Token ↔ row: `admin` is 0/1 on disk. */
export function tokenToRow(t: TokenRecord): Insertable<TokensTable> {
  return { hash: t.hash, kind: t.kind, name: t.name, admin: bit(t.admin), created_at: t.createdAt };
}

export function tokenFromRow(r: Selectable<TokensTable>): TokenRecord {
  return { hash: r.hash, kind: r.kind, name: r.name, admin: bool(r.admin), createdAt: num(r.created_at) };
}

/** The `tag` column's value: a tag is unique among its user's runs in one project (migrations 0008, 0009). */
export function tagKey(user: string, project: string, tag: string): string {
  return `${user}:${project}:${tag}`;
}

/** Run ↔ row: overrides and repo are JSON text. */
export function runToRow(run: RunRecord): Insertable<RunsTable> {
  const { project } = run;
  return {
    name: run.name,
    workflow: run.workflow,
    overrides: JSON.stringify(run.overrides),
    tag: run.tag === undefined ? null : tagKey(run.user, project, run.tag),
    tag_on_done: run.tagOnDone ?? null,
    repo: JSON.stringify(run.repo),
    project,
    code_digest: run.codeDigest,
    submitted_at: run.submittedAt,
    user: run.user,
    no_cache: run.noCache ? 1 : null,
  };
}

export function runFromRow(r: Selectable<RunsTable>): RunRecord {
  return compact({
    name: r.name,
    workflow: r.workflow,
    overrides: json<RunRecord['overrides']>(r.overrides),
    tag: r.tag === null ? undefined : r.tag.slice(r.tag.lastIndexOf(':') + 1),
    tagOnDone: r.tag_on_done ?? undefined,
    repo: json<RunRecord['repo']>(r.repo),
    project: r.project,
    codeDigest: r.code_digest,
    submittedAt: num(r.submitted_at),
    user: r.user,
    noCache: r.no_cache !== null && bool(r.no_cache) ? true : undefined,
  });
}

/** `seq` is the job's position in the run's plan. */
export function jobToRow(job: JobRecord, seq: number): Insertable<JobsTable> {
  return {
    id: job.id,
    run_name: job.runName,
    seq,
    ref: job.ref,
    workflow: job.workflow,
    spec: JSON.stringify(job.spec),
    cache_key: job.cacheKey,
    depends_on: JSON.stringify(job.dependsOn),
    status: job.status,
    reason: job.reason ?? null,
    exit_code: job.exitCode ?? null,
    runner: job.runner ?? null,
    gpus: job.gpus === undefined ? null : JSON.stringify(job.gpus),
    cached_from: job.cachedFrom ?? null,
    cached_from_another_user: job.cachedFromAnotherUser ? bit(true) : null,
    stop_request: job.stopRequest ?? null,
    stop_grace_ms: job.stopGraceMs ?? null,
    resumed: job.resumed === undefined ? null : bit(job.resumed),
    commands_started: job.commandsStarted === undefined ? null : bit(job.commandsStarted),
    submitted_at: job.submittedAt,
    started_at: job.startedAt ?? null,
    finished_at: job.finishedAt ?? null,
  };
}

/** The record for a job row; NULL columns become absent fields. */
export function jobFromRow(r: Selectable<JobsTable>): JobRecord {
  return compact({
    id: r.id,
    runName: r.run_name,
    ref: r.ref,
    workflow: r.workflow,
    spec: json<JobRecord['spec']>(r.spec),
    cacheKey: r.cache_key,
    dependsOn: json<string[]>(r.depends_on),
    status: r.status,
    reason: r.reason ?? undefined,
    exitCode: r.exit_code ?? undefined,
    runner: r.runner ?? undefined,
    gpus: r.gpus === null ? undefined : json<NonNullable<JobRecord['gpus']>>(r.gpus),
    cachedFrom: r.cached_from ?? undefined,
    cachedFromAnotherUser: r.cached_from_another_user && bool(r.cached_from_another_user) ? true : undefined,
    stopRequest: r.stop_request ?? undefined,
    stopGraceMs: r.stop_grace_ms ?? undefined,
    resumed: r.resumed === null ? undefined : bool(r.resumed),
    commandsStarted: r.commands_started === null ? undefined : bool(r.commands_started),
    submittedAt: num(r.submitted_at),
    startedAt: optNum(r.started_at),
    finishedAt: optNum(r.finished_at),
  });
}

/** Columns to SET for a patch: `null` clears a column, `undefined` leaves it alone. */
export function patchToRow(p: TransitionPatch): Updateable<JobsTable> {
  const set: Updateable<JobsTable> = {};
  if (p.reason !== undefined) set.reason = p.reason;
  if (p.exitCode !== undefined) set.exit_code = p.exitCode;
  if (p.runner !== undefined) set.runner = p.runner;
  if (p.gpus !== undefined) set.gpus = p.gpus === null ? null : JSON.stringify(p.gpus);
  if (p.startedAt !== undefined) set.started_at = p.startedAt;
  if (p.finishedAt !== undefined) set.finished_at = p.finishedAt;
  if (p.stopRequest !== undefined) set.stop_request = p.stopRequest;
  if (p.stopGraceMs !== undefined) set.stop_grace_ms = p.stopGraceMs;
  if (p.cachedFrom !== undefined) {
    // Whose job it is goes with the job named: a new source, or none, replaces it.
    set.cached_from = p.cachedFrom;
    set.cached_from_another_user = p.cachedFrom !== null && p.cachedFromAnotherUser ? bit(true) : null;
  }
  if (p.cacheKey !== undefined) set.cache_key = p.cacheKey;
  if (p.resumed !== undefined) set.resumed = bit(p.resumed);
  if (p.commandsStarted !== undefined) set.commands_started = bit(p.commandsStarted);
  return set;
}

/** The record for an event row; `from` stays null for a creation event. */
export function eventFromRow(r: Selectable<JobEventsTable>): JobEvent {
  return compact({
    jobId: r.job_id,
    at: num(r.at),
    from: r.from_status,
    to: r.to_status,
    reason: r.reason ?? undefined,
    actor: r.actor,
  });
}

/** Runner ↔ row: `total` capacity is JSON text. */
export function runnerToRow(r: RunnerRecord): Insertable<RunnersTable> {
  return {
    name: r.name,
    host: r.host,
    total: JSON.stringify(r.total),
    status: r.status,
    updated_at: r.updatedAt,
    registered_at: r.registeredAt,
    session: r.session ?? null,
  };
}

export function runnerFromRow(r: Selectable<RunnersTable>): RunnerRecord {
  return {
    name: r.name,
    host: r.host,
    total: json<RunnerRecord['total']>(r.total),
    status: r.status,
    updatedAt: num(r.updated_at),
    registeredAt: num(r.registered_at),
    ...(r.session === null ? {} : { session: r.session }),
  };
}
