/**
 * Cache keys (DESIGN §3): a job's key hashes the code it sees, its resolved spec and,
 * for each dependency, the job that made the artifacts it gets (the DONE job a dependency
 * reuses, the running one it joins, or the dependency itself): a job made from other
 * artifacts is other work. Resources do not count: the same work on a bigger machine
 * gives the same result.
 */
import { createHash } from 'node:crypto';
import type { JobSpec } from './job-spec.js';

/** A file of the code by its content, or a symlink by where it points. */
export type CodeFile = { path: string; digest: string; mode: number } | { path: string; link: string };

/**
 * A digest of the files a job sees: content and mode, never mtimes; a link's target, so that
 * pointing `current.yaml` at another config runs the job again. (Links came in later: a
 * project without any keeps the keys it had.)
 */
export function codeDigest(files: readonly CodeFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if ('link' in f) hash.update(`${f.path}\0->${f.link}\n`);
    else hash.update(`${f.path}\0${f.digest}\0${(f.mode & 0o111) !== 0 ? 'x' : '-'}\n`);
  }
  return hash.digest('hex');
}

/**
 * `producers`: the ids of the jobs that made the dependencies' artifacts, in `dependsOn` order.
 * `environment`: a digest of the environment the job runs in, where the server knows it (its
 * own runner's, for a job on the host); keys without one stay as they were.
 */
export function cacheKey(code: string, spec: JobSpec, producers: readonly string[], environment?: string): string {
  const { resources: _resources, ref: _ref, ...counted } = spec;
  return createHash('sha256')
    .update(stableJson({ v: 1, code, spec: counted, deps: producers, ...(environment && { environment }) }))
    .digest('hex');
}

/** JSON with object keys sorted, so that equal values always hash the same. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
