/**
 * What a run's `--name value` flags may name: the target workflow's variables, with messages
 * that say where an unknown one is defined, if anywhere. Pure, like the planner that calls it.
 */
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';
import { acceptedVariables, keptEnvironmentName, strictReferences, systemVariable } from './variables.js';
import type { ProjectConfig, WorkflowConfig } from './workflow.js';

export function findWorkflow(config: ProjectConfig, name: string): WorkflowConfig {
  const wf = config.workflows.find((w) => w.name === name);
  if (!wf) {
    const names = config.workflows.map((w) => w.name).join(', ') || '(none)';
    const near = didYouMean(
      name,
      config.workflows.map((w) => w.name),
    );
    throw new UsageError(`no workflow named '${name}' in .dstack/workflows.yaml (workflows: ${names})${near}`);
  }
  return wf;
}

/** Names a workflow references as `${{ name }}` anywhere in its fields. */
export function referencedVariables(wf: WorkflowConfig): Set<string> {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') strictReferences(value).forEach((n) => names.add(n));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk([wf.image, wf.commands, wf.artifacts, wf.resources, wf.environment, wf.params, wf.dependsOn, wf.inputs]);
  return names;
}

/** Check the names of `--name value` overrides against what the target workflow accepts. */
export function checkOverrides(config: ProjectConfig, target: string, names: readonly string[]): void {
  const accepted = acceptedVariables(config.variables, target);
  let referenced: Set<string> | undefined;
  for (const name of names) {
    refuseReserved(name);
    if (accepted.has(name)) continue;
    referenced ??= undefinedReferences(config, target);
    if (!referenced.has(name)) {
      const known = [...accepted.keys()].map((n) => `--${n}`).join(', ');
      throw new UsageError(
        `unknown option '--${name}' for workflow '${target}'` +
          (known ? ` (its variables: ${known})` : ' (it has no variables; define them in .dstack/variables.yaml)') +
          (dependencyVariable(config, target, name) ||
            didYouMean(
              `--${name}`,
              [...accepted.keys()].map((n) => `--${n}`),
            ) ||
            otherWorkflowVariable(config, name)),
      );
    }
  }
}

/**
 * The `${{ name }}`s that the workflows a run of `target` may hold reference without having them
 * (neither global nor of their own section): a flag is how they get a value (the undefined-variable
 * error says `or pass --gpu VALUE`). A dependency's own variable is not among them (its flag is
 * refused, saying so), nor a name only workflows outside the run reference (the flag would do
 * nothing). Which workflows the run holds is known only when no `depends-on` item uses variables
 * (`prepare:${{ tag }}`, `${{ dep }}`); when one does, any workflow may be.
 */
export function undefinedReferences(
  config: ProjectConfig,
  target: string,
  { knownRunOnly = false }: { knownRunOnly?: boolean } = {},
): Set<string> {
  const byName = new Map(config.workflows.map((w) => [w.name, w]));
  const closure = [target, ...dependenciesOf(config, target)];
  const variable = closure.some((name) =>
    (byName.get(name)?.dependsOn ?? []).some((d) => `${d.workflow ?? ''}:${d.tag ?? ''}`.includes('$')),
  );
  const names = new Set<string>();
  // `knownRunOnly`: the workflows the run surely holds, for `dstack run WF --help`'s required flags.
  const workflows = variable && !knownRunOnly ? config.workflows : closure.flatMap((n) => byName.get(n) ?? []);
  for (const wf of workflows) {
    const own = config.variables.perWorkflow[wf.name] ?? {};
    for (const name of referencedVariables(wf)) {
      if (config.variables.global[name] === undefined && own[name] === undefined) names.add(name);
    }
  }
  return names;
}

/**
 * A flag that names a system variable, or a variable whose environment name the job needs as it
 * is (`--path`): variables.yaml refuses those names, and a flag setting a `${{ name }}` would make
 * them all the same (`--run_name x` gave the job RUN_NAME=x and left $run_name the run's name).
 */
function refuseReserved(name: string): void {
  const system = systemVariable(name);
  if (system !== undefined) {
    throw new UsageError(
      `option '--${name}' cannot be given: $${name} is a system variable (${system}), which dstack sets`,
    );
  }
  const kept = keptEnvironmentName(name);
  if (kept !== undefined) {
    throw new UsageError(
      `option '--${name}' cannot be given: it would set the job's ${kept} ` +
        "(each variable is in the job's environment, upper-cased)",
    );
  }
}

/**
 * The end of the message for a flag that another workflow's own section defines (`--combine`
 * given to `download-model`, for `finetune-model`): the run to start for it.
 */
function otherWorkflowVariable(config: ProjectConfig, name: string): string {
  const owners = config.workflows
    .map((w) => w.name)
    .filter((w) => config.variables.perWorkflow[w]?.[name] !== undefined);
  if (owners.length === 0) return '';
  const quoted = owners.map((w) => `'${w}'`).join(', ');
  return `; '${name}' is a variable of workflow${owners.length === 1 ? '' : 's'} ${quoted}: dstack run ${owners[0]} --${name} VALUE`;
}

/**
 * The end of the message for a flag only a dependency's own section defines: a run accepts the
 * target's variables alone (docs/configuration.md), so say where that one can be changed.
 */
function dependencyVariable(config: ProjectConfig, target: string, name: string): string {
  const owners = dependenciesOf(config, target).filter((w) => config.variables.perWorkflow[w]?.[name] !== undefined);
  if (owners.length === 0) return '';
  const quoted = owners.map((w) => `'${w}'`).join(', ');
  return (
    `; '${name}' is a variable of its ${owners.length === 1 ? 'dependency' : 'dependencies'} ${quoted} only: ` +
    `change it in .dstack/variables.yaml, or run ${owners.join(' or ')} itself with --${name}`
  );
}

/** The workflows `target` depends on, directly or not, nearest first; undefined ones and cycles are plan()'s to report. */
function dependenciesOf(config: ProjectConfig, target: string): string[] {
  const byName = new Map(config.workflows.map((w) => [w.name, w]));
  const seen = new Set([target]);
  const queue = [target];
  for (let i = 0; i < queue.length; i++) {
    for (const dep of byName.get(queue[i]!)?.dependsOn ?? []) {
      if (dep.tag !== undefined || seen.has(dep.workflow) || !byName.has(dep.workflow)) continue;
      seen.add(dep.workflow);
      queue.push(dep.workflow);
    }
  }
  return queue.slice(1);
}
