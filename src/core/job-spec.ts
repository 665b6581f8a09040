/**
 * A job spec: what one job is to do, fully resolved (variables substituted, resources
 * parsed). Providers produce these; the server stores them; runners execute them.
 */
import type { ResourceRequest } from './resources.js';

/**
 * A dependency on a job of the same run (by its ref), or on the jobs of a tagged run:
 * those of `workflow`, or every job of that run when no workflow is named (`deps: [':tag']`).
 */
export type JobDependency = { ref: string } | { tag: string; workflow?: string };

/**
 * What a job asks of a runner, and whether it may be interrupted (`resources.interruptible`:
 * it may run on capacity that can be taken back; dstack's runners never preempt, so any runner
 * may take it). Like the rest of the resources, it does not count for the cache key.
 */
export type JobResources = ResourceRequest & { interruptible?: boolean };

export interface JobSpec {
  /** Unique within the run: the workflow name, or `name/part` when a provider makes several jobs. */
  ref: string;
  workflow: string;
  provider: string;
  /** Container image; none runs on the runner's host. */
  image?: string;
  /** Shell commands, run in order with `bash -e -o pipefail`; the first failure ends the job. */
  commands: string[];
  /** Relative to the workspace root. */
  workingDir?: string;
  env: Record<string, string>;
  /** The workflow's variables after overrides, in definition order. */
  variables: Record<string, string>;
  /** Relative paths inside the workspace; absolute paths only for a job with an image (inside its container). */
  artifacts: string[];
  resources: JobResources;
  dependsOn: JobDependency[];
  /** Globs narrowing which code files count for the cache key; all files when absent. */
  inputs?: string[];
  /** Provider parameters as written (after substitution), for display and for the cache key. */
  params: Record<string, unknown>;
}

export function dependencyLabel(dep: JobDependency): string {
  if ('ref' in dep) return dep.ref;
  return `${dep.workflow ?? ''}:${dep.tag}`;
}
