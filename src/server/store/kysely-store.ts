/**
 * The `Store` over kysely: one implementation for every SQL engine kysely has a dialect
 * for. SQLite and PostgreSQL differ only in the driver handed in and in `dialect`.
 */
import type { Kysely } from 'kysely';
import type { RunWorkflow } from '../../core/api.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { canTransition, type JobStatus, type TransitionResult } from '../../core/job-status.js';
import type { ArtifactManifest, JobEvent, JobRecord, RunRecord, RunnerRecord } from '../../core/records.js';
import type { Capacity } from '../../core/resources.js';
import { setAdminFlag, type AdminFlagChange } from './admin-flag.js';
import * as cacheTags from './cache-tags.js';
import { isForeignKeyViolation, isUniqueViolation } from './db-errors.js';
import * as jobQueries from './job-queries.js';
import { allJobFacts, jobsNeeding, jobsOfRuns } from './jobs-of-runs.js';
import * as logArchives from './log-archive-queries.js';
import * as slurmJobQueries from './slurm-job-queries.js';
import { guardedUpdate, insertRun, updateJobs } from './job-writes.js';
import { eventFromRow, jobFromRow, runFromRow, tokenFromRow, tokenToRow } from './mapping.js';
import { migrateToLatest } from './migrations/index.js';
import * as repos from './repo-store.js';
import * as runners from './runner-queries.js';
import { countRunsWithPrefix, selectRuns, UNFINISHED } from './run-queries.js';
import { selectRunWorkflows } from './run-workflows.js';
import type { Database, SqlDialect } from './schema.js';
import { TokenCache } from './token-cache.js';
import type {
  JobFacts,
  JobIdMatch,
  JobNeed,
  JobRef,
  LogArchive,
  SlurmJobRecord,
  RunQuery,
  Store,
  TagScope,
  TokenRecord,
  TransitionGuard,
  TransitionPatch,
} from './store.js';

export interface KyselyStoreOptions {
  /** Which engine `db` talks to; the schema differs only where SQL does (autoincrement). */
  dialect: SqlDialect;
}

/** A `Store` over a `Kysely<Database>`. It owns `db`: `close()` destroys it. */
export class KyselyStore implements Store {
  private readonly tokens = new TokenCache();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: KyselyStoreOptions,
  ) {}

  async migrate(): Promise<void> {
    await migrateToLatest(this.db, this.options.dialect);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async createToken(token: TokenRecord): Promise<void> {
    try {
      await this.db.insertInto('tokens').values(tokenToRow(token)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`a token for ${token.name} already exists`, { cause: err });
      throw err;
    }
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const cached = this.tokens.get(hash);
    if (cached) return cached;
    const mark = this.tokens.mark();
    const row = await this.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    if (!row) return undefined;
    const token = tokenFromRow(row);
    this.tokens.set(token, mark);
    return token;
  }

  async listTokens(kind: TokenRecord['kind']): Promise<TokenRecord[]> {
    const rows = await this.db.selectFrom('tokens').selectAll().where('kind', '=', kind).orderBy('name').execute();
    return rows.map(tokenFromRow);
  }

  async deleteTokens(kind: TokenRecord['kind'], name: string): Promise<number> {
    this.tokens.clear(); // before and after: a look-up racing the delete must not cache a deleted token
    try {
      return await this.deleteTokenRows(kind, name);
    } finally {
      this.tokens.clear();
    }
  }

  async replaceTokens(kind: TokenRecord['kind'], name: string, hash: string): Promise<TokenRecord | undefined> {
    this.tokens.clear(); // as for deleteTokens: no look-up racing the change may cache an old token
    try {
      return await this.db.transaction().execute(async (trx) => {
        // Deleted first, returning what they were: a second replace at once finds none, rather than both adding one.
        const old = (
          await trx.deleteFrom('tokens').where('kind', '=', kind).where('name', '=', name).returningAll().execute()
        ).map(tokenFromRow);
        if (old.length === 0) return undefined;
        const token: TokenRecord = {
          hash,
          kind,
          name,
          admin: old.some((t) => t.admin),
          createdAt: Math.min(...old.map((t) => t.createdAt)),
        };
        await trx.insertInto('tokens').values(tokenToRow(token)).execute();
        return token;
      });
    } finally {
      this.tokens.clear();
    }
  }

  async deleteToken(hash: string): Promise<boolean> {
    this.tokens.clear(); // as for deleteTokens
    try {
      const result = await this.db.deleteFrom('tokens').where('hash', '=', hash).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    } finally {
      this.tokens.clear();
    }
  }

  async setAdmin(name: string, admin: boolean): Promise<AdminFlagChange> {
    this.tokens.clear(); // as for deleteTokens: a cached token must not keep the old flag
    try {
      return await setAdminFlag(this.db, this.options.dialect, name, admin);
    } finally {
      this.tokens.clear();
    }
  }

  private async deleteTokenRows(kind: TokenRecord['kind'], name: string): Promise<number> {
    const result = await this.db
      .deleteFrom('tokens')
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async createRun(run: RunRecord, jobs: JobRecord[], actor: string): Promise<void> {
    await insertRun(this.db, run, jobs, actor);
  }

  async getRun(name: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('name', '=', name).executeTakeFirst();
    return row && runFromRow(row);
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    return (await selectRuns(this.db, query)).map(runFromRow);
  }

  async runWorkflows(user?: string): Promise<RunWorkflow[]> {
    return selectRunWorkflows(this.db, user);
  }

  async countRunsWithPrefix(prefix: string): Promise<number> {
    return countRunsWithPrefix(this.db, prefix);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && jobFromRow(row);
  }

  async jobsWithIdPrefix(prefix: string, user: string | undefined, limit: number): Promise<JobIdMatch[]> {
    // A range on the primary key, not LIKE (which SQLite runs as a scan): ids are lowercase hex, all below 'g'.
    let query = this.db
      .selectFrom('jobs')
      .innerJoin('runs', 'runs.name', 'jobs.run_name')
      .select(['jobs.id as id', 'jobs.run_name as runName', 'jobs.ref as ref'])
      .where('jobs.id', '>=', prefix)
      .where('jobs.id', '<', `${prefix}g`);
    if (user !== undefined) query = query.where('runs.user', '=', user);
    return query.orderBy('jobs.id').limit(limit).execute();
  }

  jobsOfRuns(runNames: readonly string[]): Promise<JobRecord[]> {
    return jobsOfRuns(this.db, runNames);
  }

  allJobFacts(runNames?: readonly string[]): Promise<JobFacts[]> {
    return allJobFacts(this.db, runNames);
  }

  jobsNeeding(jobIds: readonly string[]): Promise<JobNeed[]> {
    return jobsNeeding(this.db, jobIds);
  }

  async jobsByStatus(statuses: readonly JobStatus[]): Promise<JobRecord[]> {
    if (statuses.length === 0) return [];
    const rows = await this.oldestJobsFirst().where('status', 'in', statuses).execute();
    return rows.map(jobFromRow);
  }

  async activeJobsOfRunner(runner: string): Promise<JobRecord[]> {
    const rows = await this.oldestJobsFirst().where('runner', '=', runner).where('status', 'in', UNFINISHED).execute();
    return rows.map(jobFromRow);
  }

  readyJobs(limit: number, offset: number): Promise<JobRecord[]> {
    return jobQueries.readyJobs(this.db, limit, offset);
  }

  dependentsIn(jobId: string, status: JobStatus): Promise<JobRecord[]> {
    return jobQueries.dependentsIn(this.db, jobId, status);
  }

  allJobsDone(runName: string): Promise<boolean> {
    return jobQueries.allJobsDone(this.db, runName);
  }

  jobsByIds(ids: readonly string[]): Promise<Map<string, JobRecord>> {
    return jobQueries.jobsByIds(this.db, ids);
  }

  findDoneJobs(cacheKeys: readonly string[]): Promise<Map<string, JobRef>> {
    return jobQueries.findDoneJobs(this.db, cacheKeys);
  }

  findActiveJobs(cacheKeys: readonly string[]): Promise<Map<string, JobRef>> {
    return jobQueries.findActiveJobs(this.db, cacheKeys);
  }

  artifactsOf(jobIds: readonly string[]): Promise<Map<string, ArtifactManifest>> {
    return jobQueries.artifactsOf(this.db, jobIds);
  }

  /** Jobs oldest submitted first; a run's jobs stay together, in plan order. */
  private oldestJobsFirst() {
    return this.db.selectFrom('jobs').selectAll().orderBy('submitted_at').orderBy('run_name').orderBy('seq');
  }

  async transition(
    id: string,
    from: JobStatus,
    to: JobStatus,
    patch: TransitionPatch,
    actor: string,
    guard: TransitionGuard = {},
  ): Promise<TransitionResult<JobRecord>> {
    if (!canTransition(from, to)) return { ok: false, reason: 'not_allowed', from, to };
    return this.db
      .transaction()
      .execute((trx) => guardedUpdate(trx, id, from, to, patch, { actor, at: Date.now() }, guard));
  }

  async updateJob(id: string, expected: JobStatus, patch: TransitionPatch): Promise<TransitionResult<JobRecord>> {
    return this.db.transaction().execute((trx) => guardedUpdate(trx, id, expected, expected, patch));
  }

  updateJobs(ids: readonly string[], expected: JobStatus, patch: TransitionPatch): Promise<JobRecord[]> {
    return updateJobs(this.db, ids, expected, patch);
  }

  async events(jobId: string): Promise<JobEvent[]> {
    const rows = await this.db.selectFrom('job_events').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
    return rows.map(eventFromRow);
  }

  findDoneJob(cacheKey: string): Promise<JobRecord | undefined> {
    return cacheTags.findDoneJob(this.db, cacheKey);
  }

  findActiveJob(cacheKey: string): Promise<JobRecord | undefined> {
    return cacheTags.findActiveJob(this.db, cacheKey);
  }

  followersOf(jobId: string): Promise<JobRecord[]> {
    return cacheTags.followersOf(this.db, jobId);
  }

  setTag(runName: string, tag: string | null): Promise<void> {
    return cacheTags.setTag(this.db, runName, tag);
  }

  getRunByTag(scope: TagScope, tag: string): Promise<RunRecord | undefined> {
    return cacheTags.getRunByTag(this.db, scope, tag);
  }

  dropTagPromise(runName: string): Promise<void> {
    return cacheTags.dropTagPromise(this.db, runName);
  }

  keepTagPromise(runName: string): Promise<string | undefined> {
    return cacheTags.keepTagPromise(this.db, runName);
  }

  runPromisedTag(scope: TagScope, tag: string, except?: string): Promise<RunRecord | undefined> {
    return cacheTags.runPromisedTag(this.db, scope, tag, except);
  }

  promisedTagRuns(): Promise<RunRecord[]> {
    return cacheTags.promisedTagRuns(this.db);
  }

  taggedRuns(): Promise<RunRecord[]> {
    return cacheTags.taggedRuns(this.db);
  }

  deleteRuns(names: readonly string[]): Promise<void> {
    return cacheTags.deleteRuns(this.db, names);
  }

  artifactsAfter(after: string | undefined, limit: number): Promise<{ jobId: string; manifest: ArtifactManifest }[]> {
    return cacheTags.artifactsAfter(this.db, after, limit);
  }

  async setArtifacts(jobId: string, manifest: ArtifactManifest): Promise<void> {
    const text = JSON.stringify(manifest);
    try {
      await this.db
        .insertInto('artifacts')
        .values({ job_id: jobId, manifest: text })
        .onConflict((oc) => oc.column('job_id').doUpdateSet({ manifest: text }))
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`job ${jobId} not found`, { cause: err });
      throw err;
    }
  }

  async getArtifacts(jobId: string): Promise<ArtifactManifest | undefined> {
    const row = await this.db.selectFrom('artifacts').select('manifest').where('job_id', '=', jobId).executeTakeFirst();
    return row && (JSON.parse(row.manifest) as ArtifactManifest);
  }

  setLogArchive(jobId: string, archive: LogArchive): Promise<void> {
    return logArchives.setLogArchive(this.db, jobId, archive);
  }

  getLogArchive(jobId: string): Promise<LogArchive | undefined> {
    return logArchives.getLogArchive(this.db, jobId);
  }

  markLogArchiveStale(jobId: string): Promise<void> {
    return logArchives.markLogArchiveStale(this.db, jobId);
  }

  allLogArchives(): Promise<{ jobId: string; digest: string }[]> {
    return logArchives.allLogArchives(this.db);
  }

  unarchivedLogs(): Promise<string[]> {
    return logArchives.unarchivedLogs(this.db);
  }

  slurmJobs(backend: string): Promise<SlurmJobRecord[]> {
    return slurmJobQueries.slurmJobs(this.db, backend);
  }

  putSlurmJob(backend: string, job: SlurmJobRecord): Promise<void> {
    return slurmJobQueries.putSlurmJob(this.db, backend, job);
  }

  deleteSlurmJob(jobId: string, slurmId: string): Promise<boolean> {
    return slurmJobQueries.deleteSlurmJob(this.db, jobId, slurmId);
  }

  upsertRunner(runner: RunnerRecord): Promise<void> {
    return runners.upsertRunner(this.db, runner);
  }

  getRunner(name: string): Promise<RunnerRecord | undefined> {
    return runners.getRunner(this.db, name);
  }

  listRunners(): Promise<RunnerRecord[]> {
    return runners.listRunners(this.db);
  }

  heartbeat(name: string, at: number, session?: string | null): Promise<RunnerRecord['status'] | 'REPLACED'> {
    return runners.heartbeat(this.db, name, at, session);
  }

  setRunnerStatus(name: string, status: RunnerRecord['status']): Promise<void> {
    return runners.setRunnerStatus(this.db, name, status);
  }

  setRunnerTotal(name: string, total: Capacity): Promise<void> {
    return runners.setRunnerTotal(this.db, name, total);
  }

  deleteRunner(name: string): Promise<boolean> {
    return runners.deleteRunner(this.db, name);
  }

  putRepo(repo: repos.RepoRecord): Promise<void> {
    return repos.putRepo(this.db, repo);
  }

  getRepo(user: string, remote: string): Promise<repos.RepoRecord | undefined> {
    return repos.getRepo(this.db, user, remote);
  }

  listRepos(user: string): Promise<repos.RepoRecord[]> {
    return repos.listRepos(this.db, user);
  }

  deleteRepos(user: string): Promise<number> {
    return repos.deleteRepos(this.db, user);
  }
}
