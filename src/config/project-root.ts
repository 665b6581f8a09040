/** Where the project is: the folder holding `.dstack/`, found without reading any config. */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The nearest folder, `cwd` itself or an ancestor, that holds a `.dstack/` folder. */
export function findProjectRoot(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    if (isDirectory(join(dir, '.dstack'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
