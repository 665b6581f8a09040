/** Submitting a run: name it, give each planned job an id and a cache key, store them. */
import { randomBytes } from 'node:crypto';
import type { SubmitRunRequest } from '../core/api.js';
import { cacheKey, codeDigest } from '../core/cache-key.js';
import { ConflictError, InvalidError, NotFoundError } from '../core/errors.js';
import { runStatus } from '../core/job-status.js';
import type { JobRecord, RunRecord, RunView } from '../core/records.js';
import { runNamePrefix } from '../core/run-names.js';
import { readCodeManifest } from './code.js';
import type { Engine } from './engine.js';

export function newJobId(): string {
  return randomBytes(6).toString('hex');
}

export async function submitRun(engine: Engine, user: string, request: SubmitRunRequest): Promise<RunView> {
  const manifest = await readCodeManifest(engine.blobs, request.codeDigest);
  const code = codeDigest(
    manifest.files.flatMap((f) => (f.digest ? [{ path: f.path, digest: f.digest, mode: f.mode }] : [])),
  );
  const now = Date.now();
  const ids = new Map<string, JobRecord>();
  const jobs: JobRecord[] = [];
  for (const spec of request.jobs) {
    if (ids.has(spec.ref)) throw new InvalidError(`job ref '${spec.ref}' appears twice in the run`);
    const deps: JobRecord[] = [];
    for (const dep of spec.dependsOn) {
      if ('ref' in dep) {
        const job = ids.get(dep.ref);
        if (!job) throw new InvalidError(`job '${spec.ref}' depends on '${dep.ref}', which is not planned before it`);
        deps.push(job);
      } else {
        throw new NotFoundError(`tag '${dep.tag}' (in '${dep.workflow}:${dep.tag}') does not exist`);
      }
    }
    const job: JobRecord = {
      id: newJobId(),
      runName: '',
      ref: spec.ref,
      workflow: spec.workflow,
      spec,
      cacheKey: cacheKey(
        code,
        spec,
        deps.map((d) => d.cacheKey),
      ),
      dependsOn: deps.map((d) => d.id),
      status: 'SUBMITTED',
      submittedAt: now,
    };
    ids.set(spec.ref, job);
    jobs.push(job);
  }

  for (let attempt = 0; ; attempt++) {
    const prefix = runNamePrefix();
    const name = `${prefix}-${(await engine.store.countRunsWithPrefix(`${prefix}-`)) + 1}`;
    const run: RunRecord = {
      name,
      workflow: request.workflow,
      overrides: request.overrides,
      repo: request.repo,
      codeDigest: request.codeDigest,
      submittedAt: now,
      user,
    };
    if (request.tag !== undefined) run.tagOnDone = request.tag;
    const named = jobs.map((j) => ({ ...j, runName: name }));
    try {
      await engine.store.createRun(run, named, user);
    } catch (e) {
      if (e instanceof ConflictError && attempt < 20) continue; // another run took the name
      throw e;
    }
    engine.logger.info(`run ${name} submitted`, { workflow: request.workflow, jobs: named.length, user });
    engine.wakeRunners();
    return { ...run, status: runStatus(named.map((j) => j.status)), jobs: named };
  }
}
