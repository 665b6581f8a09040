/**
 * A job spec: what one job is to do, fully resolved (variables substituted, resources
 * parsed). Providers produce these; the server stores them; runners execute them.
 */
import type { ResourceRequest } from './resources.js';

/** A dependency on a job of the same run (by its ref) or on a tagged run's job. */
export type JobDependency = { ref: string } | { tag: string; workflow: string };

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
  /** Relative paths inside the workspace. */
  artifacts: string[];
  resources: ResourceRequest;
  dependsOn: JobDependency[];
  /** Globs narrowing which code files count for the cache key; all files when absent. */
  inputs?: string[];
  /** Provider parameters as written (after substitution), for display and for the cache key. */
  params: Record<string, unknown>;
}

export function dependencyLabel(dep: JobDependency): string {
  return 'ref' in dep ? dep.ref : `${dep.workflow}:${dep.tag}`;
}
