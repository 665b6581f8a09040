/**
 * A workflow's `inputs:` globs: which of the project's files count for its jobs' cache key
 * (every file when there are none). Paths are relative to the project root.
 */
import picomatch from 'picomatch';
import { formatLocation } from './errors.js';
import type { ProjectConfig } from './workflow.js';

/** Whether a file's path matches any of `globs` (dotfiles too: `.env` is code as much as `train.py`). */
export function inputMatcher(globs: readonly string[]): (path: string) => boolean {
  return picomatch([...globs], { dot: true });
}

/**
 * A warning for each glob of the named workflows that matches none of `paths`: a misspelt
 * `src/**\/*.pyy` would leave those files out of the key, and the cache would reuse results
 * after the code they came from changed.
 */
export function unmatchedInputs(
  config: ProjectConfig,
  workflows: ReadonlySet<string>,
  paths: readonly string[],
): string[] {
  const warnings: string[] = [];
  for (const wf of config.workflows) {
    if (!workflows.has(wf.name) || !wf.inputs) continue;
    wf.inputs.forEach((glob, i) => {
      const match = inputMatcher([glob]);
      if (paths.some(match)) return;
      const where = wf.locations[`inputs.${i}`] ?? wf.location;
      const folder = glob.replace(/\/+$/, '');
      const hint = paths.some((p) => p.startsWith(`${folder}/`))
        ? `; for the files in folder ${folder}, write '${folder}/**'`
        : " (only files that match its 'inputs' count for the cache)";
      warnings.push(
        `${formatLocation(where)}: input '${glob}' of workflow ${wf.name} matches no file of the project${hint}`,
      );
    });
  }
  return warnings;
}
