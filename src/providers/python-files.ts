/**
 * The python provider's files, checked when planning: its script and its `requirements` file.
 * The runner would find one missing only after the run was submitted (the script as python's
 * exit code 2). One that git ignores is in the project but not in the run's code: the CLI
 * refuses it once it has the code (checkFilesInCode); the runner still checks the files it gets.
 */
import { statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { ResolvedWorkflow } from '../core/planner.js';
import { pythonScript } from './builtin.js';

const IN_PROJECT = '(a path relative to the folder that holds .dstack)';

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
  if (stat === undefined) fail(`does not exist in the project ${IN_PROJECT}`);
  else if (!stat.isFile()) fail('is not a file');
}

/**
 * Throws a ConfigError at the script's key unless its file (the first word of `python_script`)
 * is in the project at `root`: a file, or a folder (python runs its `__main__.py`). Left to
 * the runner: an absolute path (a file of the job's image, or of the runner's host) and one the
 * shell expands (`$run_name`, `~`, a glob). One that climbs out with `..` is refused: the job
 * runs it from its workspace, which holds the project's files alone.
 */
export function checkScriptFile(wf: ResolvedWorkflow, root: string): void {
  const script = pythonScript(wf);
  if (script === undefined) return;
  const { file, key } = script;
  if (file.startsWith('/') || /[$`~*?[\\]/.test(file)) return;
  const fail = (detail: string): never => {
    throw new ConfigError(
      `python script '${file}' of workflow '${wf.name}' ${detail}`,
      wf.locations[key] ?? wf.location,
      key,
    );
  };
  const inProject = posix.normalize(file);
  if (inProject === '..' || inProject.startsWith('../')) {
    fail(`leaves the project folder: name a file inside it ${IN_PROJECT}, or an absolute path`);
  }
  const stat = statOrUndefined(join(root, ...file.split('/')));
  // A folder runs as its __main__.py: without one, python exits 1 with `can't find '__main__' module`.
  if (stat?.isDirectory() && statOrUndefined(join(root, ...file.split('/'), '__main__.py')) === undefined)
    fail('is a folder without a __main__.py, which python would run: name the script in it (folder/train.py)');
  if (stat !== undefined) return;
  // `python_script: python3 train.py`: the provider runs the interpreter itself.
  if (INTERPRETER.test(file)) {
    const rest = wf.params[key];
    const args = typeof rest === 'string' ? rest.trim().slice(file.length).trim() : '';
    const instead = args === '' ? 'the script' : `'${args}'`;
    fail(
      `is the interpreter, which the python provider runs itself: write the script and its arguments (${key}: ${instead})`,
    );
  }
  fail(`does not exist in the project ${IN_PROJECT}`);
}

/** `python`, `python3`, `python3.10`: what users put before the script out of habit. */
const INTERPRETER = /^python(\d+(\.\d+)?)?$/;

/**
 * Throws a ConfigError at the key of the script or the requirements file that is in the project
 * but not in the run's code (`code`: its paths), as a file git ignores is not: submitted, the
 * job failed with python's `can't open file` or `requirements file '…' is not in the workspace`.
 */
export function checkFilesInCode(
  wf: ResolvedWorkflow,
  code: ReadonlySet<string>,
  /** Links left out of the code as they lead out of the project: the CLI warns of those already. */
  leftOut: ReadonlySet<string> = new Set(),
): void {
  const script = pythonScript(wf);
  const requirements = wf.params['requirements'];
  const files: { file: string; key: string; what: string }[] = [];
  if (script !== undefined && !script.file.startsWith('/') && !/[$`~*?[\\]/.test(script.file))
    files.push({ ...script, what: 'python script' });
  if (typeof requirements === 'string' && requirements.trim() !== '')
    files.push({ file: requirements.trim(), key: 'requirements', what: 'requirements file' });
  for (const { file, key, what } of files) {
    const path = posix.normalize(file).replace(/\/+$/, '');
    // A folder is run by its __main__.py: any file of it will do.
    if (code.has(path) || leftOut.has(path) || [...code].some((p) => p.startsWith(`${path}/`))) continue;
    throw new ConfigError(
      `${what} '${file}' of workflow '${wf.name}' is in the project, but git ignores it, so it is not in the ` +
        `run's code: have git track it (git add -f ${path}), or take it out of .gitignore`,
      wf.locations[key] ?? wf.location,
      key,
    );
  }
}

/** Sync, as built-in providers plan (no promise per workflow); a path through a file (ENOTDIR) is missing too. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
