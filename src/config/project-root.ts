/** Where the project is: the folder whose `.dstack/` holds its config, found without reading any. */
import { lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The files that make a `.dstack/` folder a project's. A `.dstack/` holding none of them is
 * something else: `~/.dstack`, dstack's own state (DSTACK_HOME), or a stray empty folder.
 */
const PROJECT_FILES = ['workflows.yaml', 'variables.yaml', 'providers.yaml'];

/**
 * The nearest folder, `cwd` itself or an ancestor, whose `.dstack/` holds a project file
 * (PROJECT_FILES). A file counts as it is named, a link to nothing included, so that reading
 * it says what is wrong with it rather than that there is no project.
 */
export function findProjectRoot(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    if (holdsProject(join(dir, '.dstack'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** What a command that needs a project says outside one, in the same words for every command. */
export function noProjectIn(cwd: string): string {
  return `no .dstack/workflows.yaml in ${cwd} or its parents`;
}

/**
 * A project file named `.yml` where dstack looks for its `.yaml` (which is absent), in `cwd` or
 * a folder above it up to the project's `root` (the file system's root without one): said in
 * place of "no .dstack/workflows.yaml", or of a project above it taken, or its variables unread.
 */
export function misnamedProjectFile(cwd: string, root: string | undefined): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const dotDstack = join(dir, '.dstack');
    const yaml = PROJECT_FILES.find((name) => exists(join(dotDstack, ymlName(name))) && !exists(join(dotDstack, name)));
    if (yaml) return `found .dstack/${ymlName(yaml)} in ${dir}: dstack reads .dstack/${yaml}; rename it`;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

const ymlName = (yaml: string) => yaml.replace(/\.yaml$/, '.yml');

function holdsProject(dotDstack: string): boolean {
  return PROJECT_FILES.some((name) => exists(join(dotDstack, name)));
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false; // absent, or .dstack is not a folder
  }
}
