/**
 * A workflow's `inputs:` globs: which of the project's files count for its jobs' cache key
 * (every file when there are none). Paths are relative to the project root.
 */
import { posix } from 'node:path';
import picomatch from 'picomatch';
import type { CodeFile } from './cache-key.js';
import { ConfigError } from './errors.js';
import { isExclusion, VARIABLES_FILE, WORKFLOWS_FILE } from './project-paths.js';
import type { ManifestEntry } from './records.js';
import type { SourceLocation } from './errors.js';

/**
 * Whether a file's path matches any of `globs` (dotfiles too: `.env` is code as much as
 * `train.py`), or lies in a folder that one matches: `inputs: [src]` counts every file under
 * `src`, as `artifacts: [src]` saves them, and as .gitignore reads a pattern naming a folder.
 * A glob that matched folders alone counted no file at all, and the cache went on reusing
 * results however the code in them changed.
 *
 * A glob starting with `!` leaves out what it matches, as in .gitignore: the last glob that
 * matches a path decides, so `['src', '!src/tests']` counts `src` but its tests, and a glob
 * after it counts again what it names (the python provider's script, appended to the
 * workflow's own). A list that starts with one counts every other file (`['!data']`). Read as
 * any other glob, `!data` matched every path but `data` itself: `data/a.csv` counted all the same.
 */
export function inputMatcher(globs: readonly string[]): (path: string) => boolean {
  if (!globs.some(isExclusion)) return pathMatcher(globs);
  const rules = globs.map((glob) =>
    isExclusion(glob)
      ? { counts: false, match: pathMatcher([glob.slice(1)]) }
      : { counts: true, match: pathMatcher([glob]) },
  );
  const initially = !rules[0]!.counts;
  return (path) => {
    for (let i = rules.length - 1; i >= 0; i--) if (rules[i]!.match(path)) return rules[i]!.counts;
    return initially;
  };
}

/** Whether a path matches one of `globs`, or lies in a folder that one matches. */
function pathMatcher(globs: readonly string[]): (path: string) => boolean {
  const match = picomatch(
    globs.map((g) => g.replace(/(.)\/+$/, '$1')), // `src/` names the folder `src`
    { dot: true },
  );
  const folders = new Map<string, boolean>(); // a project's files share few folders
  const inMatchedFolder = (path: string): boolean => {
    const end = path.lastIndexOf('/');
    if (end <= 0) return false;
    const folder = path.slice(0, end);
    let matched = folders.get(folder);
    if (matched === undefined) folders.set(folder, (matched = match(folder) || inMatchedFolder(folder)));
    return matched;
  };
  return (path) => match(path) || inMatchedFolder(path);
}

/**
 * dstack's own config files. Their effect on a job (its commands, variables, dependencies) is
 * in its resolved spec, which the key counts apart: counted as code too, one workflow's edited
 * variable or a comment would run every job of the project again.
 */
export const CONFIG_FILES: ReadonlySet<string> = new Set([WORKFLOWS_FILE, VARIABLES_FILE]);

/**
 * What of the code counts for a job's key: every file and link but dstack's config files, or those matching `inputs`
 * and, for a matching link, what it points at in the project (a file, or a folder's files),
 * so that `inputs: [current.yaml]` sees an edit of the config the link names.
 */
export function countedCode(files: readonly ManifestEntry[], inputs: readonly string[] | undefined): CodeFile[] {
  const code = new Map<string, CodeFile>();
  for (const f of files) {
    if (f.link !== undefined) code.set(f.path, { path: f.path, link: f.link });
    else if (f.digest !== undefined) code.set(f.path, { path: f.path, digest: f.digest, mode: f.mode });
  }
  if (!inputs || inputs.length === 0) return [...code.values()].filter((f) => !CONFIG_FILES.has(f.path));
  const match = inputMatcher(inputs);
  const counted = new Map<string, CodeFile>();
  const take = (file: CodeFile): void => {
    if (counted.has(file.path)) return; // also ends a cycle of links
    counted.set(file.path, file);
    if (!('link' in file)) return;
    const target = posix.join(posix.dirname(file.path), file.link);
    const exact = code.get(target);
    if (exact) take(exact);
    for (const [path, inside] of code) if (path.startsWith(`${target}/`)) take(inside);
  };
  for (const file of code.values()) if (match(file.path)) take(file);
  return [...counted.values()];
}

/** A workflow as planned, its `inputs` with the run's variables substituted. */
export interface PlannedInputs {
  name: string;
  inputs?: string[];
  locations: Record<string, SourceLocation>;
  location: SourceLocation;
}

/**
 * Refuses the first glob of the planned workflows that matches none of `paths` (the run's
 * code): it counts nothing for the key, so a misspelt `src/**\/*.pyy` left the files it
 * meant out of it, and the cache reused results after they changed. A warning was printed and
 * the stale result used all the same (docs/decisions.md). A glob under what a job makes
 * (`made`: artifact paths, such as a dependency's `data`) is left alone: those files are not code,
 * and count through the key of the job that makes them.
 */
export function checkInputsMatch(
  workflows: readonly PlannedInputs[],
  paths: readonly string[],
  made: readonly string[] = [],
): void {
  for (const wf of workflows) {
    if (!wf.inputs) continue;
    wf.inputs.forEach((glob, i) => {
      // What an exclusion names may be absent (a folder git ignores): it then leaves out nothing, which costs at most a run.
      if (isExclusion(glob) || paths.some(inputMatcher([glob])) || namesMade(glob, made)) return;
      throw new ConfigError(
        `input '${glob}' of workflow '${wf.name}' matches no file of the project, so the cache would ` +
          'reuse its results whatever happened to the files it was meant to name; correct it or remove it',
        wf.locations[`inputs.${i}`] ?? wf.location,
        `inputs.${i}`,
      );
    });
  }
}

/** Whether `glob`'s fixed start (`data` of `data/**`) lies in, or holds, one of the `made` paths. */
function namesMade(glob: string, made: readonly string[]): boolean {
  const base = picomatch.scan(glob).base.replace(/\/+$/, '');
  if (base === '') return false; // `**/*.py`: about the whole project
  return made.some((path) => {
    const a = path.replace(/^\.\//, '').replace(/\/+$/, '');
    return base === a || base.startsWith(`${a}/`) || a.startsWith(`${base}/`);
  });
}
