/** `.dstack/variables.yaml`: `variables: { global: {...}, <workflow>: {...} }`. */
import type { Node } from 'yaml';
import type { SourceLocation } from '../core/errors.js';
import type { VariablesConfig } from '../core/workflow.js';
import { validate } from './issues.js';
import {
  expectTopLevel,
  isScalar,
  locate,
  parseYaml,
  resolveAlias,
  scalarText,
  toPlain,
  type Path,
} from './yaml-source.js';
import { lazy, zod } from './zod-lib.js';

export const VARIABLES_FILE = '.dstack/variables.yaml';

/** The section every workflow sees. */
export const GLOBAL_SECTION = 'global';

const sections = lazy(() => {
  const z = zod();
  return z
    .record(
      z.string(),
      z
        .record(z.string(), z.string({ error: 'a single value' }).nullable(), { error: 'a mapping of name: value' })
        .nullable(),
      { error: 'a mapping of sections (global:, <workflow>:)' },
    )
    .nullable();
});

/**
 * Parse and validate the text of a variables file. Values are kept as written
 * (`0.00002`, `0.0`, `1`); an empty value is `''`. Locations are keyed `section.name`
 * (and `section` for the section's key). Throws a ConfigError at the first problem.
 */
export function parseVariables(text: string, file: string = VARIABLES_FILE): VariablesConfig {
  const src = parseYaml(text, file);
  const config: VariablesConfig = { global: {}, perWorkflow: {}, locations: {} };
  const root = src.doc.contents === null ? null : resolveAlias(src, src.doc.contents);
  if (root === null || (isScalar(root) && scalarText(root) === null)) return config;
  expectTopLevel(src, root, 'variables');

  const base: Path = ['variables'];
  const subject = (path: Path): string => {
    const [section, name, ...rest] = path.map(String);
    if (section === undefined) return "'variables'";
    if (name === undefined) return `variables section '${section}'`;
    return `variable '${[name, ...rest].join('.')}' in section '${section}'`;
  };
  const plain = toPlain(src, root.items[0]?.value as Node | null);
  const field = (path: Path): string => path.join('.') || 'variables';
  const parsed = validate(sections(), plain, { src, base, subject, field });
  const at = (path: Path): SourceLocation => locate(src, [...base, ...path]);
  for (const [section, values] of Object.entries(parsed ?? {})) {
    const target: Record<string, string> = {};
    if (section === GLOBAL_SECTION) config.global = target;
    else config.perWorkflow[section] = target;
    config.locations[section] = at([section]);
    for (const [name, value] of Object.entries(values ?? {})) {
      target[name] = value ?? '';
      config.locations[`${section}.${name}`] = at([section, name]);
    }
  }
  return config;
}
