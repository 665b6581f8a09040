/**
 * A custom provider's output made into the planner's jobs: refs under the workflow's name,
 * dependencies among them in order, the workflow's environment, artifacts and resources
 * where a job says nothing. Every problem names the provider and the field.
 */
import type { ProviderJob, ResolvedWorkflow } from '../../core/planner.js';
import { reservedArtifact } from '../../core/container-paths.js';
import { unexpandedArtifact } from '../../core/project-paths.js';
import { MIN_JOB_MEMORY, parseSize } from '../../core/resources.js';
import type { JobResources } from '../../core/job-spec.js';
import { parseProviderOutput, type ProviderJobOutput } from './contract.js';

/** Throws `invalid(detail)` for the first problem. */
export function jobsFromOutput(
  output: unknown,
  wf: ResolvedWorkflow,
  provider: string,
  invalid: (detail: string) => Error,
): ProviderJob[] {
  const parsed = parseProviderOutput(output);
  if ('problem' in parsed) throw invalid(parsed.problem);
  const jobs = parsed.jobs;
  const names = new Map<string, number>();
  jobs.forEach((job, i) => {
    if (jobs.length > 1 && job.name === undefined)
      throw invalid(`jobs.${i}.name: required when there are several jobs`);
    if (job.name === undefined) return;
    if (names.has(job.name))
      throw invalid(`jobs.${i}.name: '${job.name}' is also the name of jobs.${names.get(job.name)}`);
    names.set(job.name, i);
  });
  const refOf = (i: number) => (jobs.length === 1 ? wf.name : `${wf.name}/${jobs[i]!.name}`);
  const made = jobs.map((job, i): ProviderJob => {
    const dependsOn = (job.depends_on ?? []).map((name, k) => {
      const target = names.get(name);
      if (target === undefined || target === i) {
        throw invalid(
          `jobs.${i}.depends_on.${k}: '${name}' is not ${target === i ? 'another' : 'a'} job of this provider`,
        );
      }
      return refOf(target);
    });
    const result: ProviderJob = {
      ref: refOf(i),
      provider,
      commands: job.commands,
      env: { ...wf.environment, ...job.environment },
      variables: wf.variables,
      artifacts: (job.artifacts ?? wf.artifacts).map((a, k) => checkPath(a, `jobs.${i}.artifacts.${k}`, invalid, true)),
      resources: resourcesOf(job, wf.resources, i, invalid),
      params: wf.params,
      ...(dependsOn.length > 0 ? { dependsOn } : {}),
    };
    const image = job.image ?? wf.image;
    if (image !== undefined) result.image = image;
    if (job.working_dir !== undefined)
      result.workingDir = checkPath(job.working_dir, `jobs.${i}.working_dir`, invalid, false);
    if (wf.inputs !== undefined) result.inputs = wf.inputs;
    return result;
  });
  return inOrder(made, invalid);
}

function resourcesOf(
  job: ProviderJobOutput,
  base: JobResources,
  i: number,
  invalid: (detail: string) => Error,
): JobResources {
  const r = job.resources ?? {};
  const size = (value: number | string, field: string): number => {
    const bytes = typeof value === 'number' ? value : parseSize(value);
    if (bytes === undefined || bytes === null)
      throw invalid(`jobs.${i}.resources.${field}: '${value}' is not a size like 512MB or 16GB`);
    return bytes;
  };
  const out: JobResources = { ...base };
  if (r.cpu !== undefined) out.cpu = r.cpu;
  if (r.memory !== undefined) out.memory = atLeastJobMemory(size(r.memory, 'memory'), r.memory, i, invalid);
  if (r.gpu !== undefined) out.gpu = r.gpu;
  if (r.shm_size !== undefined) out.shmSize = size(r.shm_size, 'shm_size');
  return out;
}

/** A job's memory of at least MIN_JOB_MEMORY (0: no limit). A number is bytes here, not the megabytes of workflows.yaml. */
function atLeastJobMemory(
  bytes: number,
  value: number | string,
  i: number,
  invalid: (detail: string) => Error,
): number {
  if (bytes === 0 || bytes >= MIN_JOB_MEMORY) return bytes;
  const least = 'is under 6MiB, the least memory a job runs in';
  throw invalid(
    typeof value === 'number'
      ? `jobs.${i}.resources.memory: ${value} bytes ${least} (a number is bytes: did you mean "${value}GB"?)`
      : `jobs.${i}.resources.memory: '${value}' ${least}`,
  );
}

/**
 * A path inside the workspace (no `..` out of it); absolute only where allowed (artifacts, checked later for an
 * image), and then one the runner saves as it is named (unexpandedArtifact).
 */
function checkPath(path: string, field: string, invalid: (detail: string) => Error, absolute: boolean): string {
  if (path.split('/').includes('..')) throw invalid(`${field}: '${path}' may not contain '..'`);
  // An artifact the runner would take literally (a glob, $HOME) saves nothing, as in a workflow's `artifacts`.
  const unexpanded = absolute ? unexpandedArtifact(path) : undefined;
  if (unexpanded !== undefined) throw invalid(`${field}: '${path}' ${unexpanded}`);
  if (path.startsWith('/') && !absolute) throw invalid(`${field}: '${path}' must be relative to the workspace`);
  const clean =
    (path.startsWith('/') ? '/' : '') +
    path
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .join('/');
  if (clean === '' || clean === '/') throw invalid(`${field}: '${path}' names no file or folder`);
  // A folder mounted where the workspace, dstack's files or the kernel's are fails, or saves stubs.
  const reserved = clean.startsWith('/') ? reservedArtifact(clean) : undefined;
  if (reserved !== undefined) throw invalid(`${field}: '${path}' ${reserved}`);
  return clean;
}

/** Dependencies first, as the planner wants them; a cycle is the provider's error. */
function inOrder(jobs: ProviderJob[], invalid: (detail: string) => Error): ProviderJob[] {
  const byRef = new Map(jobs.map((j) => [j.ref, j]));
  const out: ProviderJob[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (job: ProviderJob, path: string[]) => {
    if (state.get(job.ref) === 'done') return;
    if (state.get(job.ref) === 'visiting') throw invalid(`depends_on: a cycle: ${[...path, job.ref].join(' -> ')}`);
    state.set(job.ref, 'visiting');
    for (const dep of job.dependsOn ?? []) visit(byRef.get(dep)!, [...path, job.ref]);
    state.set(job.ref, 'done');
    out.push(job);
  };
  jobs.forEach((job) => visit(job, []));
  return out;
}
