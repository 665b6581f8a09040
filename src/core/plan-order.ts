/**
 * Which workflows a run needs, dependencies first, from each one's `depends-on` with its
 * variables substituted: `depends-on: [${{ data }}]` is known only for the run's variables.
 */
import { closure } from './dag.js';
import { dependencyHasVariables, dependencyOf, dependencyProblem } from './dependencies.js';
import { ConfigError } from './errors.js';
import { didYouMean } from './suggest.js';
import type { DependencyConfig, ProjectConfig, WorkflowConfig } from './workflow.js';
import { workflowSubstitution, type Warn, type WorkflowSubstitution } from './workflow-substitution.js';

export interface PlanOrder {
  /** The target's closure, dependencies first. */
  order: string[];
  /** The `depends-on` of a workflow of `order`, variables substituted. */
  dependsOn(workflow: string): DependencyConfig[];
}

/** Rethrows a ConfigError of a dependency of the target saying which target needed it. */
export function namedForTarget(wf: WorkflowConfig, target: string): (e: unknown) => never {
  return (e) => {
    if (!(e instanceof ConfigError) || wf.name === target) throw e;
    throw new ConfigError(`${e.detail} (planning '${target}', which depends on it)`, e.location, e.field);
  };
}

export function planOrder(
  config: ProjectConfig,
  request: { target: string; overrides: Record<string, string> },
  warnAt: (wf: WorkflowConfig) => Warn,
): PlanOrder {
  const byName = new Map(config.workflows.map((w) => [w.name, w]));
  const resolved = new Map<string, DependencyConfig[]>();
  const dependsOn = (wf: WorkflowConfig): DependencyConfig[] => {
    let deps = resolved.get(wf.name);
    if (deps !== undefined) return deps;
    if (!wf.dependsOn.some(dependencyHasVariables)) deps = wf.dependsOn;
    else {
      try {
        deps = resolveDependencies(wf, workflowSubstitution(config, wf, request.overrides, warnAt(wf)).now);
      } catch (e) {
        return namedForTarget(wf, request.target)(e);
      }
    }
    resolved.set(wf.name, deps);
    return deps;
  };
  // Workflows of this file each one depends on; tag dependencies name runs, not workflows here.
  const local = new Map<string, string[]>();
  const localOf = (wf: WorkflowConfig): string[] => {
    let names = local.get(wf.name);
    if (names !== undefined) return names;
    names = [];
    for (const [i, dep] of dependsOn(wf).entries()) {
      if (dep.tag !== undefined) continue;
      if (!byName.has(dep.workflow)) {
        throw new ConfigError(
          `workflow '${wf.name}' depends on '${dep.workflow}', which is not defined` +
            didYouMean(
              dep.workflow,
              [...byName.keys()].filter((n) => n !== wf.name),
            ),
          wf.locations[`depends-on.${i}`] ?? wf.location,
          'depends-on',
        );
      }
      names.push(dep.workflow);
    }
    local.set(wf.name, names);
    return names;
  };
  // A dependency written plainly must exist whichever workflow is run, as ever; one that uses
  // variables is known only for the workflows this run needs, with its variables.
  for (const wf of config.workflows) if (!wf.dependsOn.some(dependencyHasVariables)) localOf(wf);
  const order = closure(request.target, (name) => localOf(byName.get(name)!));
  if (!order.ok) {
    const first = byName.get(order.cycle[0]!)!;
    throw new ConfigError(
      `dependency cycle: ${order.cycle.join(' -> ')}`,
      first.locations['depends-on'] ?? first.location,
      'depends-on',
    );
  }
  return { order: order.order, dependsOn: (name) => resolved.get(name) ?? [] };
}

/**
 * A workflow's `depends-on`, each item that uses variables substituted (`now`: dependencies are
 * found when the run is planned) and then checked as config/ checks one written plainly.
 * A variable's value may hold a tag: `${{ dep }}` of `prepare:best` is that tagged run's prepare.
 */
export function resolveDependencies(wf: WorkflowConfig, now: WorkflowSubstitution['now']): DependencyConfig[] {
  return wf.dependsOn.map((dep, i) => {
    if (!dependencyHasVariables(dep)) return dep;
    const field = `depends-on.${i}`;
    let workflow = now(dep.workflow ?? '', field);
    let tag = dep.tag === undefined ? undefined : now(dep.tag, field);
    const colon = workflow.indexOf(':');
    if (tag === undefined && colon >= 0) [workflow, tag] = [workflow.slice(0, colon), workflow.slice(colon + 1)];
    [workflow, tag] = [workflow.trim(), tag?.trim()];
    const written = dep.tag === undefined ? dep.workflow : `${dep.workflow ?? ''}:${dep.tag}`;
    const problem = dependencyProblem(workflow, tag, tag === undefined ? workflow : `${workflow}:${tag}`);
    if (problem !== undefined) {
      throw new ConfigError(
        `'${field}' of workflow '${wf.name}' ${problem} (from '${written}', its variables substituted)`,
        wf.locations[field] ?? wf.location,
        field,
      );
    }
    return dependencyOf(workflow, tag);
  });
}
