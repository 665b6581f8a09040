/** Records and a per-test store for the store conformance suite. */
import { afterEach, beforeEach } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import type { JobRecord, RunRecord, RunnerRecord } from '../../src/core/records.js';
import type { Store } from '../../src/server/store/store.js';

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

export function makeRun(name: string, fields: Partial<RunRecord> = {}): RunRecord {
  return {
    name,
    workflow: 'train',
    overrides: {},
    repo: { root: '/home/ada/project' },
    codeDigest: 'c0de'.repeat(16),
    submittedAt: 1_700_000_000_000,
    user: 'ada',
    ...fields,
  };
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
