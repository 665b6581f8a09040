/**
 * A tag dependency resolves on the server, at submission: its error comes back as
 * `depends-on 'LABEL': …`. The CLI still has the file, so it says where that entry is written.
 */
import { ConfigError, NotFoundError } from '../../core/errors.js';
import { dependencyLabel } from '../../core/job-spec.js';
import type { ResolvedWorkflow } from '../../core/planner.js';

const DEPENDS_ON = /^depends-on '([^']*)': /;

/**
 * `error` at the place of the depends-on entry it names, among the workflows planned (their
 * entries with the run's variables substituted, as they were sent); else `error` as it was.
 */
export function locateDependencyError(
  workflows: readonly Pick<ResolvedWorkflow, 'dependsOn' | 'locations' | 'location'>[],
  error: unknown,
): unknown {
  if (!(error instanceof NotFoundError)) return error;
  const label = DEPENDS_ON.exec(error.message)?.[1];
  if (label === undefined) return error;
  for (const wf of workflows) {
    const i = wf.dependsOn.findIndex((d) => d.tag !== undefined && dependencyLabel(d) === label);
    if (i >= 0) return new ConfigError(error.message, wf.locations[`depends-on.${i}`] ?? wf.location, 'depends-on');
  }
  return error;
}
