/**
 * Substituting a run's variables into one workflow's fields (DESIGN §2), with errors that name
 * the field's line, or the variable or flag that made a bad value. `$run_name` and `$job_id`
 * are left for the runner (runtime-variables.ts) in the fields it reads; a field read before
 * any job runs (`now`) cannot use them.
 */
import { refuseSharedEnvironmentNames, type VariableOrigin } from './environment-clash.js';
import { ConfigError, UsageError, formatLocation } from './errors.js';
import { misspeltReferenceCheck } from './misspelt-references.js';
import { referencedVariables } from './overrides.js';
import { didYouMean } from './suggest.js';
import {
  MalformedReferenceError,
  RUNTIME_VARIABLES,
  UndefinedVariableError,
  VARIABLES_AS_ARGS,
  environmentReference,
  hasShellSyntax,
  keptEnvironmentName,
  substitute,
  substitutedNames,
  unbracedDashed,
  variablesAsArgs,
  workflowVariables,
} from './variables.js';
import type { ProjectConfig, WorkflowConfig } from './workflow.js';

/** A problem that does not stop the run, at `field` of the workflow. */
export type Warn = (detail: string, field?: string) => void;

export interface WorkflowSubstitution {
  /** The workflow's variables after overrides, in definition order. */
  vars: Map<string, string>;
  /** `text` of `field` with the variables substituted; `$run_name` and `$job_id` left for the runner. */
  sub(text: string, field: string): string;
  /** The same, for a field read when the run is planned: `$run_name` or `$job_id` in it is an error. */
  now(text: string, field: string): string;
  /**
   * A value that a field cannot take, blamed on where it came from: the `--name` flag, or the
   * variable's line in variables.yaml, when one variable's value is the whole field; else the
   * field's own line, with its text and the value of each variable in it.
   */
  badValue(field: string, raw: string, value: string, expected: string): never;
}

const RUNTIME = new Set<string>(RUNTIME_VARIABLES);
const NONE: ReadonlySet<string> = new Set();

function hasKeys(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
}

export function workflowSubstitution(
  config: ProjectConfig,
  wf: WorkflowConfig,
  overrides: Record<string, string>,
  warn: Warn = () => {},
  /** Variables already warned about as pasted into a command: one warning each a run. */
  pasted = new Set<string>(),
): WorkflowSubstitution {
  // The references matter only to let an override through; walking every field of 10,000
  // workflows for them when there is none to let through was a tenth of planning.
  const referenced = hasKeys(overrides) ? referencedVariables(wf) : NONE;
  const vars = workflowVariables(config.variables, wf.name, overrides, referenced);
  const all = new Map(vars);
  all.set(VARIABLES_AS_ARGS, variablesAsArgs(config.variables, wf.name, vars));
  const at = (field: string) => wf.locations[field] ?? wf.location;

  const sub = (text: string, field: string): string => {
    if (!text.includes('$')) return text;
    for (const name of unbracedDashed(text, all, RUNTIME)) {
      const head = name.slice(0, name.indexOf('-'));
      warn(
        `'${field}' of workflow '${wf.name}': the shell reads $${name} as $${head} then '${name.slice(head.length)}'; ` +
          `write \${${name}} for the variable '${name}'`,
        field,
      );
    }
    if (field.startsWith('commands.')) {
      warnPasted(text, field);
      warnMisspelt(text, field);
    }
    try {
      return substitute(text, all, RUNTIME);
    } catch (e) {
      if (e instanceof MalformedReferenceError) {
        throw new ConfigError(
          `malformed variable reference '${e.text}' in '${field}' of workflow '${wf.name}': ` +
            'write ${{ name }}, a name of letters, digits, _ and -',
          at(field),
          field,
        );
      }
      if (!(e instanceof UndefinedVariableError)) throw e;
      throw new ConfigError(undefinedVariable(e.variable, field), at(field), field);
    }
  };

  const undefinedVariable = (name: string, field: string): string => {
    const head = `undefined variable \${{ ${name} }} in '${field}' of workflow '${wf.name}': `;
    const kept = keptEnvironmentName(name);
    // No variable can have this name (variables.yaml and the flag refuse it): say so, not how to define it.
    if (kept !== undefined) {
      return head + `no variable can be named '${name}', which would replace the job's ${kept}: rename it`;
    }
    return (
      head +
      `define it in .dstack/variables.yaml (under 'global:' or '${wf.name}:'), or pass --${name} VALUE` +
      didYouMean(name, [...all.keys(), ...RUNTIME_VARIABLES])
    );
  };

  const now = (text: string, field: string): string => {
    const value = sub(text, field);
    const runtime = substitutedNames(value, new Map(RUNTIME_VARIABLES.map((n) => [n, ''])));
    if (runtime.length > 0) {
      throw new ConfigError(
        `'${field}' of workflow '${wf.name}' uses $${runtime[0]}, which is known only once the job runs; ` +
          'this field is read when the run is planned ($run_name and $job_id are filled in commands, ' +
          'environment, artifacts and provider parameters)',
        at(field),
        field,
      );
    }
    return value;
  };

  // A value goes into a command as written (the spec's template semantics): say so when the
  // shell would split it or run part of it. $variables_as_args is quoted already.
  const warnPasted = (text: string, field: string): void => {
    for (const name of substitutedNames(text, all)) {
      if (name === VARIABLES_AS_ARGS || RUNTIME.has(name) || pasted.has(name) || !hasShellSyntax(all.get(name)!))
        continue;
      pasted.add(name);
      warn(
        `'${field}' of workflow '${wf.name}': the value of variable '${name}' is pasted into the command as ` +
          'written, and has characters the shell reads as syntax (whitespace, quotes, ;&|<>()$`\\*?[); ' +
          `the job has it in its environment: ${environmentReference(name)} gives the shell the value as one word`,
        field,
      );
    }
  };

  const misspelt = misspeltReferenceCheck({
    variables: [...all.keys()],
    environment: Object.keys(wf.environment),
    commands: wf.commands,
  });
  // `$epoch` for `$epochs`: the shell would read it as empty, and the job run on (misspelt-references.ts).
  const warnMisspelt = (text: string, field: string): void => {
    for (const { written, meant } of misspelt(text)) {
      warn(
        `'${field}' of workflow '${wf.name}': ${written} is no variable of the workflow and nothing dstack sets, ` +
          `so the shell reads it as empty unless the job sets it; did you mean ${meant}?`,
        field,
      );
    }
  };

  /** Where a variable's value came from: its flag, or its line in variables.yaml (neither for $variables_as_args). */
  const origin = (name: string): VariableOrigin => {
    if (overrides[name] !== undefined && vars.get(name) === overrides[name]) return { flag: `--${name}` };
    const section = config.variables.perWorkflow[wf.name]?.[name] !== undefined ? wf.name : 'global';
    const defined = config.variables.locations[`${section}.${name}`];
    return defined && { at: defined };
  };

  const badValue = (field: string, raw: string, value: string, expected: string): never => {
    const names = [...new Set(substitutedNames(raw, all))].filter((n) => n !== VARIABLES_AS_ARGS);
    // The variable is at fault when its value is the whole field. With text around it
    // (`${{ g }}XB`) the workflow's text may be, so the field is blamed, showing both.
    const only = names.length === 1 && value.trim() === vars.get(names[0]!)!.trim() ? names[0]! : undefined;
    const from = only === undefined ? undefined : origin(only);
    if (from !== undefined && 'flag' in from) {
      throw new UsageError(
        `invalid ${from.flag} '${vars.get(only!)}': ${field} of workflow '${wf.name}' takes ${expected}`,
      );
    }
    if (from !== undefined) {
      throw new ConfigError(
        `invalid value '${vars.get(only!)}' of variable '${only}': ${field} of workflow '${wf.name}' ` +
          `(${formatLocation(at(field))}) takes ${expected}`,
        from.at,
      );
    }
    const sources = names.map((name) => {
      const source = origin(name);
      const set =
        source === undefined
          ? ''
          : 'flag' in source
            ? `, set by ${source.flag}`
            : `, set at ${formatLocation(source.at)}`;
      return `'${name}' is '${vars.get(name)}'${set}`;
    });
    const made = sources.length === 0 || only !== undefined ? '' : ` (from '${raw}', where ${sources.join(' and ')})`;
    throw new ConfigError(
      `invalid ${field} '${value}' in workflow '${wf.name}'${made}: expected ${expected}`,
      at(field),
      field,
    );
  };

  refuseSharedEnvironmentNames(vars, wf.name, origin);
  return { vars, sub, now, badValue };
}
