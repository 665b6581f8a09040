/**
 * Paths a workflow names in the project: artifacts and `inputs` globs, relative to its folder.
 * One that climbs out of it with `..` names files dstack neither saves nor snapshots.
 */
import { fileLikeArtifact, reservedArtifact } from './container-paths.js';
import { ConfigError } from './errors.js';
import { withoutRuntimeVariables } from './runtime-variables.js';
import type { WorkflowConfig } from './workflow.js';

/** dstack's config files, relative to the project's folder. */
export const WORKFLOWS_FILE = '.dstack/workflows.yaml';
export const VARIABLES_FILE = '.dstack/variables.yaml';

/** The parts of `path` with `.` and `..` applied; null when a `..` climbs above the start. */
function resolveParts(path: string): string[] | null {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.pop() === undefined) return null;
  }
  return parts;
}

/**
 * An artifact path, normalised: relative paths must stay inside the project; absolute ones
 * are kept for now and allowed only for a job that runs in a container (checkHostArtifacts),
 * at a path its container may have a folder of the job's mounted at (reservedArtifact).
 * `warn` hears of an absolute one named like a file.
 */
export function normalizeArtifact(
  path: string,
  wf: WorkflowConfig,
  field: string,
  warn: (detail: string, field: string) => void = () => {},
): string {
  const loc = wf.locations[field] ?? wf.location;
  const unexpanded = unexpandedArtifact(path);
  if (unexpanded !== undefined) {
    throw new ConfigError(`artifact path '${path}' of workflow '${wf.name}' ${unexpanded}`, loc, field);
  }
  const absolute = path.startsWith('/');
  const parts = resolveParts(path);
  if (parts === null) {
    const where = absolute ? 'goes above the root folder' : 'leaves the project folder';
    throw new ConfigError(`artifact path '${path}' of workflow '${wf.name}' ${where}`, loc, field);
  }
  if (parts.length === 0) {
    const what = absolute ? 'the root folder' : 'the project folder itself';
    throw new ConfigError(
      `artifact path '${path}' of workflow '${wf.name}' is ${what}; name a folder or file inside it`,
      loc,
      field,
    );
  }
  if (!absolute) return parts.join('/');
  const normalised = `/${parts.join('/')}`;
  const reserved = reservedArtifact(normalised);
  if (reserved !== undefined) {
    throw new ConfigError(`artifact path '${path}' of workflow '${wf.name}' ${reserved}`, loc, field);
  }
  const fileLike = fileLikeArtifact(normalised);
  if (fileLike !== undefined) warn(`artifact path '${path}' of workflow '${wf.name}' ${fileLike}`, field);
  return normalised;
}

/**
 * Refuses a relative and an absolute artifact saved under one path. A job's manifest names an
 * absolute artifact's files without the leading `/` (`/ckpt/f` as `ckpt/f`), so `ckpt` and
 * `/ckpt` (or `/ckpt` and `ckpt/best`) hold the same names, and `dstack artifacts -o` wrote one's
 * files over the other's while saying it had downloaded both.
 */
export function checkArtifactsApart(artifacts: readonly string[], wf: WorkflowConfig): void {
  const relative = artifacts.filter((a) => !a.startsWith('/'));
  artifacts.forEach((path, i) => {
    if (!path.startsWith('/')) return;
    const saved = path.slice(1);
    const other = relative.find((r) => r === saved || r.startsWith(`${saved}/`) || saved.startsWith(`${r}/`));
    if (other === undefined) return;
    const field = `artifacts.${i}`;
    throw new ConfigError(
      `artifacts '${other}' and '${path}' of workflow '${wf.name}' are both saved as '${saved}' ` +
        "(an absolute path without its '/'): their files would replace each other's; rename one",
      wf.locations[field] ?? wf.location,
      field,
    );
  });
}

/**
 * Why `path` would save nothing the user meant, or undefined: the runner saves the one folder or
 * file of that name, and expands nothing in it but `$run_name` and `$job_id` (the run's variables
 * are substituted already). A glob, `$HOME` or `~` would be taken literally, and the job end DONE
 * with its files lost. `*` and `?` are legal in a file name, but one that holds them is far rarer
 * than a glob meant as one; `[` is not refused, as names like `reqs[dev]` are common (docs/decisions.md).
 */
export function unexpandedArtifact(path: string): string | undefined {
  const ARTIFACT =
    'an artifact is one folder or file, named as it is: relative to the project, or absolute for a job with an image';
  const parts = path.split('/');
  const glob = parts.findIndex((part) => /[*?]/.test(withoutRuntimeVariables(part)));
  if (glob >= 0) {
    const folder = parts.slice(0, glob).join('/');
    const instead =
      folder.replace(/\/+$/, '') === '' ? 'put the files in a folder, and name that' : `name the folder '${folder}'`;
    return `is a glob, which dstack does not expand: ${ARTIFACT} (${instead})`;
  }
  if (path.startsWith('~')) return `starts with '~', which dstack does not expand to a home folder: ${ARTIFACT}`;
  const shell = /\$(?:\{[^}]*\}?|\(|[A-Za-z_][A-Za-z0-9_]*)/.exec(withoutRuntimeVariables(path));
  if (shell === null) return undefined;
  return (
    `uses ${shell[0]}, which dstack does not expand (it fills in the run's variables, $run_name and $job_id ` +
    `alone): ${ARTIFACT}`
  );
}

/** An `inputs` glob that leaves out what it matches (`!data`; not `!(*.md)`, picomatch's own negation): core/inputs.ts. */
export function isExclusion(glob: string): boolean {
  return glob.startsWith('!') && !glob.startsWith('!(');
}

/**
 * An `inputs` glob, checked as artifacts are: it is matched against the project's own files,
 * so one outside the project would only ever match nothing, and the cache would see no code.
 */
export function checkInput(glob: string, wf: WorkflowConfig, field: string): string {
  const fail = (why: string): never => {
    throw new ConfigError(`input '${glob}' of workflow '${wf.name}' ${why}`, wf.locations[field] ?? wf.location, field);
  };
  const path = isExclusion(glob) ? glob.slice(1) : glob; // `!data` names project files too
  if (path.startsWith('/')) fail("is absolute: inputs are globs of the project's files, relative to its folder");
  if (resolveParts(path) === null) fail('leaves the project folder');
  return glob;
}
