/** A project on disk: the folder holding `.dstack/`, and its config files read together. */
import { join, resolve } from 'node:path';
import { ConfigError, formatLocation } from '../core/errors.js';
import { localeSettingMade } from '../core/variables.js';
import type { ProjectConfig, VariablesConfig } from '../core/workflow.js';
import { readConfigFile } from './config-text.js';
import { readPlainFast, type PlainReader } from './fast-yaml.js';
import { cachedReader } from './plain-cache.js';
import { PROVIDERS_FILE, parseProviders } from './providers.js';
import { closest } from './suggest.js';
import { GLOBAL_SECTION, VARIABLES_FILE, parseVariables } from './variables.js';
import { WORKFLOWS_FILE, parseWorkflows } from './workflows.js';

/**
 * Read and validate `.dstack/workflows.yaml` (required), `.dstack/variables.yaml` and
 * `.dstack/providers.yaml` (optional) under `root`. Throws a ConfigError naming file, line and column.
 * With `plainCache`, a folder where what js-yaml read from each file is kept (plain-cache.ts).
 */
export async function loadProject(root: string, options: { plainCache?: string } = {}): Promise<ProjectConfig> {
  const absolute = resolve(root);
  const workflowsPath = join(absolute, WORKFLOWS_FILE);
  const workflows = await readIfExists(absolute, WORKFLOWS_FILE);
  if (workflows === undefined) {
    throw new ConfigError(
      `not found (looked for ${workflowsPath}): ` +
        "create it with a 'workflows:' list, for example:\n" +
        'workflows:\n  - name: hello\n    provider: bash\n    commands:\n      - echo hello',
      { file: WORKFLOWS_FILE },
    );
  }
  const [variables, providers] = await Promise.all([
    readIfExists(absolute, VARIABLES_FILE),
    readIfExists(absolute, PROVIDERS_FILE),
  ]);
  const { plainCache } = options;
  const readPlain = plainCache
    ? (file: string) => cachedReader(plainCache, join(absolute, file), readPlainFast)
    : undefined;
  return buildProject(absolute, workflows, variables, providers, readPlain);
}

/** A file of the project, as text; undefined when there is none. */
function readIfExists(root: string, file: string): Promise<string | undefined> {
  return readConfigFile(join(root, file), file);
}

/**
 * The project from the texts of its files (no disk): `root` is recorded as given.
 * Adds cross-file warnings, such as a variables section that names no workflow.
 */
export function buildProject(
  root: string,
  workflowsText: string,
  variablesText?: string,
  providersText?: string,
  /** The reader of each file's plain data (default: js-yaml's fast read, uncached). */
  readPlain: (file: string) => PlainReader = () => readPlainFast,
): ProjectConfig {
  const { workflows, warnings } = parseWorkflows(workflowsText, WORKFLOWS_FILE, readPlain(WORKFLOWS_FILE));
  const variables =
    variablesText === undefined
      ? { global: {}, perWorkflow: {}, locations: {} }
      : parseVariables(variablesText, VARIABLES_FILE, readPlain(VARIABLES_FILE));
  const names = new Set(workflows.map((w) => w.name));
  for (const section of Object.keys(variables.perWorkflow)) {
    if (section === GLOBAL_SECTION || names.has(section)) continue;
    const where = variables.locations[section];
    // `globl:` is a typo of the section every workflow sees as much as of a workflow's name.
    const near = closest(section, [GLOBAL_SECTION, ...names]);
    const hint = near !== undefined ? `did you mean '${near}'?` : `workflows: ${[...names].join(', ') || 'none'}`;
    warnings.push(
      `${where ? `${formatLocation(where)}: ` : ''}variables.yaml section '${section}' names no workflow ` +
        `(its variables apply to no run; ${hint})`,
    );
  }
  // `global:` is every workflow's section: a workflow of that name has no section of its own.
  const named = workflows.find((w) => w.name === GLOBAL_SECTION);
  if (named) {
    warnings.push(
      `${formatLocation(named.locations['name'] ?? named.location)}: workflow '${GLOBAL_SECTION}' has no ` +
        `variables.yaml section of its own: 'global:' is the section every workflow sees (its $variables_as_args ` +
        `is empty); rename the workflow to give it variables of its own`,
    );
  }
  warnings.push(...localeWarnings(variables));
  const project: ProjectConfig = { root, workflows, variables, warnings };
  if (providersText !== undefined) project.providers = parseProviders(providersText, PROVIDERS_FILE);
  return project;
}

/** Variables that would set the job's locale to no locale at all (`lang: en`): said, not refused, as one may mean it. */
function localeWarnings(variables: VariablesConfig): string[] {
  const sections = [[GLOBAL_SECTION, variables.global] as const, ...Object.entries(variables.perWorkflow)];
  return sections.flatMap(([section, values]) =>
    Object.entries(values).flatMap(([name, value]) => {
      const setting = localeSettingMade(name, value);
      if (setting === undefined) return [];
      const where = variables.locations[`${section}.${name}`];
      return [
        `${where ? `${formatLocation(where)}: ` : ''}variable '${name}' is the job's ${setting}=${value} ` +
          "(each variable is in the job's environment, upper-cased), which names no locale " +
          `(like en_US.UTF-8): programs in the job may warn or fall back to C; rename the variable unless that is meant`,
      ];
    }),
  );
}
