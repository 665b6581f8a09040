/**
 * Variable resolution and substitution (DESIGN §2).
 *
 * - `${{ name }}` must resolve: an unknown name is an error.
 * - `$name` and `${name}` are replaced only when `name` is a variable, so `$PATH`
 *   and other shell variables reach the shell untouched. A dashed name (`learning-rate`)
 *   is read only braced: `$learning-rate` is the shell's `$learning` then `-rate`.
 */
import type { VariablesConfig } from './workflow.js';

/** Variables that the runner fills in at execution time (run and job ids are not known when planning). */
export const RUNTIME_VARIABLES = ['run_name', 'job_id'] as const;
export const VARIABLES_AS_ARGS = 'variables_as_args';

/** What each system variable stands for: dstack sets them, so no variable or flag may take one's name. */
const SYSTEM_VARIABLES: Record<string, string> = {
  run_name: "the run's name",
  job_id: "the job's id",
  [VARIABLES_AS_ARGS]: "the workflow's variables as --name value",
};

/** What `name` stands for when it is a system variable's; undefined otherwise. */
export function systemVariable(name: string): string | undefined {
  return Object.hasOwn(SYSTEM_VARIABLES, name) ? SYSTEM_VARIABLES[name] : undefined;
}

/** An ordered name → value map: order is definition order, which `$variables_as_args` keeps. */
export type Variables = ReadonlyMap<string, string>;

/** The variables a workflow sees: global, then its own section, then the run's overrides. */
export function workflowVariables(
  config: VariablesConfig,
  workflow: string,
  overrides: Readonly<Record<string, string>>,
  referenced: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const vars = new Map<string, string>([
    ...Object.entries(config.global),
    ...Object.entries(config.perWorkflow[workflow] ?? {}),
  ]);
  // An override sets a variable the workflow has, or one it references as `${{ name }}` without defining it.
  for (const [name, value] of Object.entries(overrides)) {
    if (vars.has(name) || referenced.has(name)) vars.set(name, value);
  }
  return vars;
}

/** The names a `dstack run <workflow>` accepts as `--name value`. */
export function acceptedVariables(config: VariablesConfig, workflow: string): Map<string, string> {
  return workflowVariables(config, workflow, {});
}

/** `--name value` for each variable of the workflow's own section, shell-quoted where needed. */
export function variablesAsArgs(config: VariablesConfig, workflow: string, vars: Variables): string {
  const own = Object.keys(config.perWorkflow[workflow] ?? {});
  return own.map((name) => `--${name} ${shellQuote(vars.get(name) ?? '')}`).join(' ');
}

/**
 * The `dstack run` that runs a job's workflow again as its run ran it: with the run's overrides
 * of the variables the job has (`dstack run train --epochs 3`). A bare `dstack run train` would
 * take the defaults, another job than the one the user was told to run again.
 */
export function runAgainCommand(
  job: { workflow: string; spec: { variables: Record<string, string> } },
  overrides: Record<string, string>,
): string {
  return runCommand(
    job.workflow,
    Object.fromEntries(Object.entries(overrides).filter(([n]) => n in job.spec.variables)),
  );
}

/** `dstack run WORKFLOW --name value…`, each value shell-quoted where needed. */
export function runCommand(workflow: string, overrides: Record<string, string>): string {
  const args = Object.entries(overrides).map(([name, value]) => ` --${name} ${shellQuote(value)}`);
  return `dstack run ${workflow}${args.join('')}`;
}

export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export class UndefinedVariableError extends Error {
  constructor(
    readonly variable: string,
    readonly column: number,
  ) {
    super(`undefined variable \${{ ${variable} }}`);
  }
}

/** A `${{` that does not start a well-formed `${{ name }}`: a typo, or another tool's syntax (`${{ github.sha }}`). */
export class MalformedReferenceError extends Error {
  constructor(readonly text: string) {
    super(`malformed \${{ }}: '${text}'`);
  }
}

/** A variable's name: what `${{ name }}` can reference, and `--name` can set. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Every variable is in the job's environment upper-cased, so `path: data/raw` would be the
 * job's PATH: these names start the job's shell and its programs (or dstack sets them), and
 * a variable must not take their place.
 */
const KEPT_ENVIRONMENT = new Set([
  ...['PATH', 'HOME', 'SHELL', 'PWD', 'OLDPWD', 'IFS', 'ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS'],
  ...['LD_PRELOAD', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES'],
]);

/** The environment name a variable would replace, when it is one the job needs as it is; undefined otherwise. */
export function keptEnvironmentName(variable: string): string | undefined {
  const name = variable.toUpperCase();
  return KEPT_ENVIRONMENT.has(name) || name.startsWith('DSTACK_') ? name : undefined;
}

/** A locale's name as the C library takes it: `C`, `POSIX`, or `language_TERRITORY`, each with an optional `.codeset` and `@modifier`. */
const LOCALE = /^(?:C|POSIX|[a-z]{2,3}_[A-Z]{2})(?:\.[A-Za-z0-9-]+)?(?:@[A-Za-z0-9]+)?$/;

/**
 * The locale setting a variable would make the job's (`lang: en` is its `LANG=en`), when its
 * value names no locale: the job's programs then warn or fall back to C. Undefined otherwise.
 */
export function localeSettingMade(variable: string, value: string): string | undefined {
  const name = variable.toUpperCase();
  const locale = name === 'LANG' || (name.startsWith('LC_') && name !== 'LC_');
  return locale && value !== '' && !LOCALE.test(value) ? name : undefined;
}

const STRICT_AT = /\$\{\{\s*[A-Za-z_][A-Za-z0-9_-]*\s*\}\}/y;

/** Throws MalformedReferenceError at the first `${{` of `text` that is not a `${{ name }}`, nor escaped (`$${{`). */
function checkStrict(text: string): void {
  for (let at = text.indexOf('${{'); at >= 0; at = text.indexOf('${{', at + 3)) {
    if (text[at - 1] === '$') continue;
    STRICT_AT.lastIndex = at;
    if (STRICT_AT.test(text)) continue;
    const end = text.indexOf('}}', at);
    throw new MalformedReferenceError(end >= 0 && end - at < 60 ? text.slice(at, end + 2) : text.slice(at, at + 20));
  }
}

/**
 * A reference, in the groups: 1 escaped `$${name}` or `$$name` (what follows the first `$`),
 * 2 `${{ name }}`, 3 `${name}`, 4 `$name`; or, with no group, the `$$` of an escaped `$${{`.
 * `${a-b}` is bash's "a, or b when unset", so a braced dashed name that is no variable stays the shell's.
 */
const PATTERN =
  /\$\$(?=\{\{)|\$(\$\{[A-Za-z_][A-Za-z0-9_-]*\}|\$[A-Za-z_][A-Za-z0-9_]*)|\$\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_-]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

const nameOf = (m: RegExpMatchArray) => m[2] ?? m[3] ?? m[4];

/**
 * Substitute variables in one string. `keep` names variables that are left as written
 * (the runtime ones while planning). Throws UndefinedVariableError for an unknown `${{ }}`,
 * MalformedReferenceError for a `${{` that is not one.
 *
 * `$$` escapes a reference dstack would fill in: `$${{ anything }}`, and `$$name` or `$${name}`
 * where `name` is a variable, are written as they are, one `$` less. A `$$` before anything
 * else is the shell's (its pid), and stays. An escaped `keep` name is left escaped for the
 * runner, which fills in the rest of them (runtime-variables.ts).
 */
export function substitute(text: string, vars: Variables, keep: ReadonlySet<string> = new Set()): string {
  checkStrict(text);
  return text.replace(
    PATTERN,
    (match, escaped?: string, strict?: string, braced?: string, bare?: string, offset?: number) => {
      if (escaped !== undefined) {
        const name = escaped.replace(/^\$\{?|\}$/g, '');
        if (keep.has(name)) return match;
        return vars.has(name) ? escaped : match;
      }
      if (strict === undefined && braced === undefined && bare === undefined) {
        STRICT_AT.lastIndex = (offset ?? 0) + 1;
        const kept = STRICT_AT.exec(text)?.[0].replace(/^\$\{\{\s*|\s*\}\}$/g, '');
        return kept !== undefined && keep.has(kept) ? match : '$';
      }
      const name = (strict ?? braced ?? bare) as string;
      if (keep.has(name)) return match;
      const value = vars.get(name);
      if (value !== undefined) return value;
      if (strict !== undefined) throw new UndefinedVariableError(name, (offset ?? 0) + 1);
      return match;
    },
  );
}

/** The variables `substitute` would put into `text`, in order: for an error about the value they made. */
export function substitutedNames(text: string, vars: Variables): string[] {
  return [...text.matchAll(PATTERN)].map(nameOf).filter((name): name is string => name !== undefined && vars.has(name));
}

// What the shell reads as more than one plain word: whitespace, quotes, operators, expansions, globs.
const SHELL_SYNTAX = /[\s'"`;&|<>()$\\*?[]/;

/** True when a value pasted into a command would not reach it as one word, as written. */
export function hasShellSyntax(value: string): boolean {
  return SHELL_SYNTAX.test(value);
}

/** How a command gives the shell a variable's value as one word: its environment variable, quoted. */
export function environmentReference(variable: string): string {
  const name = variable.toUpperCase();
  // A dashed name (`LEARNING-RATE`) is in the environment, but no shell variable can name it.
  return /^[A-Z_][A-Z0-9_]*$/.test(name) ? `"$${name}"` : `"$(printenv ${name})"`;
}

const BARE_DASHED = /\$([A-Za-z_][A-Za-z0-9_]*)((?:-[A-Za-z0-9_]+)+)/g;

/**
 * Dashed variables written unbraced (`$learning-rate`) where the part before the dash is no
 * variable: the shell would get `$learning` and `-rate`, surely not what was meant.
 */
export function unbracedDashed(text: string, vars: Variables, keep: ReadonlySet<string> = new Set()): string[] {
  if (!text.includes('$')) return [];
  const found: string[] = [];
  for (const [, head, tail] of text.matchAll(BARE_DASHED)) {
    if (vars.has(head!) || keep.has(head!)) continue;
    const parts = tail!.split('-').slice(1);
    for (let n = parts.length; n > 0; n--) {
      const name = [head, ...parts.slice(0, n)].join('-');
      if (vars.has(name)) {
        found.push(name);
        break;
      }
    }
  }
  return found;
}

/** Names referenced with `${{ }}` in a string (for `--help` and dry runs). */
export function strictReferences(text: string): string[] {
  return [...text.matchAll(PATTERN)].flatMap((m) => (m[2] ? [m[2]] : []));
}
