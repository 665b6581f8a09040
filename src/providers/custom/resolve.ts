/**
 * Where a custom provider comes from: `.dstack/providers.yaml` (a program), a module in
 * `.dstack/providers/<name>.mjs`, an npm package (`npm:<package>`), or another repository's
 * own providers.yaml or modules (`provider: {repo, name}`).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readConfigFile } from '../../config/config-text.js';
import { parseProviders, PROVIDERS_FILE } from '../../config/providers.js';
import { formatLocation } from '../../core/errors.js';
import type { ProviderDefinition } from '../../core/workflow.js';

export type ProviderSource =
  | { kind: 'program'; name: string; image?: string; commands: string[]; dir: string; where: string }
  | { kind: 'module'; name?: string; file: string; where: string };

/** A module file of a provider under a repository's `.dstack/providers/`. */
export function moduleFile(root: string, name: string): string {
  return join(root, '.dstack', 'providers', `${name}.mjs`);
}

/** The providers a repository's `.dstack/providers/` defines as modules, by name; none without the folder. */
export async function moduleNames(root: string): Promise<string[]> {
  const files = await readdir(join(root, '.dstack', 'providers')).catch(() => []);
  return files.filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -'.mjs'.length));
}

/** The provider `name` that a folder defines; `definitions` when they are already read (the project's). */
export async function findInFolder(
  dir: string,
  name: string,
  label: string,
  definitions?: readonly ProviderDefinition[],
): Promise<ProviderSource | undefined | { conflict: string }> {
  let defs = definitions;
  if (defs === undefined) {
    const file = `${label}:${PROVIDERS_FILE}`;
    const text = await readConfigFile(join(dir, PROVIDERS_FILE), file);
    defs = text === undefined ? [] : parseProviders(text, file);
  }
  const def = defs.find((d) => d.name === name);
  const file = moduleFile(dir, name);
  const module = existsSync(file);
  if (def !== undefined && module) {
    return {
      conflict: `is defined twice, at ${formatLocation(def.location)} and in .dstack/providers/${name}.mjs: keep one`,
    };
  }
  if (def !== undefined) {
    const program: ProviderSource = {
      kind: 'program',
      name,
      commands: def.commands,
      dir,
      where: formatLocation(def.location),
    };
    if (def.image !== undefined) program.image = def.image;
    return program;
  }
  if (module)
    return { kind: 'module', name, file, where: `${label === '.' ? '' : `${label}:`}.dstack/providers/${name}.mjs` };
  return undefined;
}
