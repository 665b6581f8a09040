/** Records and a per-test store for the store conformance suite. */
import { afterEach, beforeEach } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { projectKey } from '../../src/core/projects.js';
import type { JobRecord, RunRecord, RunnerRecord } from '../../src/core/records.js';
import type { Store, TagScope } from '../../src/server/store/store.js';
import type { Insertable } from 'kysely';
import { jobToRow, runToRow } from '../../src/server/store/mapping.js';
import type { Database, JobsTable, RunsTable } from '../../src/server/store/schema.js';

/** Opens a fresh, empty, migrated store; each call must be isolated from the others. */
export type OpenStore = () => Promise<Store>;

/** A fresh store for every test, closed after it. Call inside a `describe`. */
export function useFreshStore(open: OpenStore): () => Store {
  let store: Store | undefined;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  return () => {
    if (store === undefined) throw new Error('the store is opened in beforeEach');
    return store;
  };
}

/** The project of makeRun's runs: its repo has no remote, so its root is its key. */
export const PROJECT = '/home/ada/project';

/** Where a tag is looked up: a user's runs in a project (makeRun's unless named). */
export function tagScope(user = 'ada', project = PROJECT): TagScope {
  return { user, project };
}

/** A run of `fields.repo` (PROJECT's unless given), in that repo's project as the server would put it. */
export function makeRun(name: string, fields: Partial<RunRecord> = {}): RunRecord {
  const repo = fields.repo ?? { root: PROJECT };
  return {
    name,
    workflow: 'train',
    overrides: {},
    repo,
    project: projectKey(repo),
    codeDigest: 'c0de'.repeat(16),
    submittedAt: 1_700_000_000_000,
    user: 'ada',
    ...fields,
  };
}

/**
 * The schema before migration 0009 added `runs.project` (and later ones `runs.no_cache`,
 * `jobs.commands_started`, `jobs.cached_from_another_user`).
 */
export type DatabaseBefore0009 = Omit<Database, 'runs' | 'jobs'> & {
  runs: Omit<RunsTable, 'project' | 'no_cache'>;
  jobs: Omit<JobsTable, 'commands_started' | 'cached_from_another_user'>;
};

/** A run's row as the `runs` table held it before migration 0009. */
export function rowBefore0009(run: RunRecord): Insertable<DatabaseBefore0009['runs']> {
  const { project: _, no_cache: _noCache, ...row } = runToRow(run);
  return row;
}

/** A job's row as the `jobs` table held it before migration 0013. */
export function jobRowBefore0013(job: JobRecord, seq: number): Insertable<DatabaseBefore0009['jobs']> {
  const { commands_started: _, cached_from_another_user: _theirs, ...row } = jobToRow(job, seq);
  return row;
}

export function makeSpec(ref: string, fields: Partial<JobSpec> = {}): JobSpec {
  return {
    ref,
    workflow: ref,
    provider: 'bash',
    commands: [`echo ${ref}`],
    env: {},
    variables: {},
    artifacts: [],
    resources: { cpu: 1, memory: 0, gpu: 0 },
    dependsOn: [],
    params: {},
    ...fields,
  };
}

/** A SUBMITTED job of `run` with only the required fields; `id` defaults to `<run>-<ref>`. */
export function makeJob(run: RunRecord, ref: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id: `${run.name}-${ref}`,
    runName: run.name,
    ref,
    workflow: ref,
    spec: makeSpec(ref),
    cacheKey: `key-${run.name}-${ref}`,
    dependsOn: [],
    status: 'SUBMITTED',
    submittedAt: run.submittedAt,
    ...fields,
  };
}

export function makeRunner(name: string, fields: Partial<RunnerRecord> = {}): RunnerRecord {
  return {
    name,
    host: `${name}.local`,
    total: { cpu: 8, memory: 32e9, gpus: [{ index: 0, name: 'NVIDIA A100', memory: 40e9 }] },
    status: 'ACTIVE',
    updatedAt: 1_700_000_000_000,
    registeredAt: 1_700_000_000_000,
    ...fields,
  };
}

/** Create a run with one SUBMITTED job per ref, returning both. */
export async function seedRun(
  store: Store,
  name: string,
  refs: string[],
  run: Partial<RunRecord> = {},
): Promise<{ run: RunRecord; jobs: JobRecord[] }> {
  const record = makeRun(name, run);
  const jobs = refs.map((ref) => makeJob(record, ref));
  await store.createRun(record, jobs, 'ada');
  return { run: record, jobs };
}
