/** `.dstack/variables.yaml`: `variables: { global: {...}, <workflow>: {...} }`. */
import type { Node } from 'yaml';
import { VARIABLES_FILE } from '../core/project-paths.js';
import { ConfigError, type SourceLocation } from '../core/errors.js';
import { keptEnvironmentName, systemVariable, VARIABLE_NAME } from '../core/variables.js';
import type { VariablesConfig } from '../core/workflow.js';
import { readPlainFast, type PlainReader } from './fast-yaml.js';
import { validate } from './issues.js';
import { LazyLocation, SourceHandle } from './source-handle.js';
import {
  expectTopLevel,
  isScalar,
  locate,
  locateKey,
  parseYaml,
  resolveAlias,
  scalarText,
  toPlain,
  type Path,
  type Plain,
} from './yaml-source.js';
import { lazy, zod } from './zod-lib.js';

export { VARIABLES_FILE };

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

type Sections = Record<string, Record<string, string | null> | null> | null;

/**
 * Parse and validate the text of a variables file. Values are kept as written
 * (`0.00002`, `0.0`, `1`); an empty value is `''`. Locations are keyed `section.name`
 * (and `section` for the section's key). Throws a ConfigError at the first problem.
 *
 * A valid file is read by js-yaml alone (fast-yaml.ts), without zod, and its locations
 * found when first read; anything else is read by `yaml` from the start, which says where the problem is.
 */
export function parseVariables(
  text: string,
  file: string = VARIABLES_FILE,
  readPlain: PlainReader = readPlainFast,
): VariablesConfig {
  const fast = readPlain(text);
  if (fast !== null && typeof fast === 'object' && !Array.isArray(fast) && Object.keys(fast).length === 1) {
    const given = fast['variables'];
    if (given !== undefined && isSections(given)) {
      const handle = new SourceHandle(text, file);
      return collect(
        given,
        (path) => new LazyLocation(handle, ['variables', ...path]),
        (path) => locateKey(handle.src, ['variables', ...path]),
      );
    }
  }
  return parseVariablesFully(text, file);
}

/** The file read by `yaml` from the start. Exported for the test that holds the fast read to it. */
export function parseVariablesFully(text: string, file: string): VariablesConfig {
  const src = parseYaml(text, file);
  const root = src.doc.contents === null ? null : resolveAlias(src, src.doc.contents);
  if (root === null || (isScalar(root) && scalarText(root) === null))
    return { global: {}, perWorkflow: {}, locations: {} };
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
  return collect(
    parsed,
    (path) => locate(src, [...base, ...path]),
    (path) => locateKey(src, [...base, ...path]),
  );
}

/** What `sections` accepts, checked without loading zod (40 to 70 ms of a `dstack run`). */
function isSections(value: Plain): value is Sections {
  if (value === null) return true;
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every(
    (section) =>
      section === null ||
      (typeof section === 'object' &&
        !Array.isArray(section) &&
        Object.values(section).every((v) => v === null || typeof v === 'string')),
  );
}

/** The config of validated sections; `at` and `atKey` locate a path under `variables`, and its key. */
function collect(
  parsed: Sections,
  at: (path: Path) => SourceLocation,
  atKey: (path: Path) => SourceLocation,
): VariablesConfig {
  const config: VariablesConfig = { global: {}, perWorkflow: {}, locations: {} };
  for (const [section, values] of Object.entries(parsed ?? {})) {
    const target: Record<string, string> = {};
    if (section === GLOBAL_SECTION) config.global = target;
    else config.perWorkflow[section] = target;
    config.locations[section] = at([section]);
    for (const [name, value] of Object.entries(values ?? {})) {
      // `y z` would split $variables_as_args, and `${{ y z }}` could not name it.
      if (!VARIABLE_NAME.test(name)) {
        throw new ConfigError(
          `variable name '${name}' in section '${section}' is not valid: use letters, digits, '_' and '-', ` +
            "starting with a letter or '_'",
          atKey([section, name]),
          `${section}.${name}`,
        );
      }
      const system = systemVariable(name);
      if (system !== undefined) {
        throw new ConfigError(
          `variable '${name}' in section '${section}' has the name of a system variable: $${name} is ${system}, ` +
            'which dstack sets: rename it',
          atKey([section, name]),
          `${section}.${name}`,
        );
      }
      const kept = keptEnvironmentName(name);
      if (kept !== undefined) {
        throw new ConfigError(
          `variable '${name}' in section '${section}' would replace the job's ${kept} ` +
            "(each variable is in the job's environment, upper-cased): rename it",
          atKey([section, name]),
          `${section}.${name}`,
        );
      }
      target[name] = value ?? '';
      config.locations[`${section}.${name}`] = at([section, name]);
    }
  }
  return config;
}
