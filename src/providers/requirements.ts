/**
 * The python provider's `requirements` file, checked when planning: the runner would find it
 * missing only after the run was submitted. The runner still checks the file it gets (one that
 * git ignores is in the project but not in the run's code).
 */
import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { ResolvedWorkflow } from '../core/planner.js';

/** Throws a ConfigError at `requirements` unless it names a file inside the project at `root`. */
export function checkRequirementsFile(wf: ResolvedWorkflow, root: string): void {
  const value = wf.params['requirements'];
  if (typeof value !== 'string' || value.trim() === '') return;
  const file = value.trim();
  const fail = (detail: string): never => {
    throw new ConfigError(
      `requirements file '${file}' of workflow '${wf.name}' ${detail}`,
      wf.locations['requirements'] ?? wf.location,
      'requirements',
    );
  };
  // As the runner reads it: relative to the project, and never through `..` (python-job.ts).
  const parts = file.split(/[/\\]/);
  if (file.startsWith('/') || file.startsWith('\\') || parts.includes('..')) {
    fail("must be a path inside the project (relative, without '..')");
  }
  const stat = statOrUndefined(join(root, ...parts));
  if (stat === undefined) fail('does not exist in the project (a path relative to the folder that holds .dstack)');
  else if (!stat.isFile()) fail('is not a file');
}

/** Sync, as built-in providers plan (no promise per workflow); a path through a file (ENOTDIR) is missing too. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
