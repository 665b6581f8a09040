/**
 * The planner: from a project's config, a target workflow and the run's variable
 * overrides, the job specs of the run, dependencies first. Pure: providers are passed in.
 */
import { closure } from './dag.js';
import { ConfigError, UsageError, formatLocation, type SourceLocation } from './errors.js';
import type { JobDependency, JobResources, JobSpec } from './job-spec.js';
import { IMAGE_REFERENCE_EXPECTED, isImageReference } from './image-reference.js';
import { checkInput, normalizeArtifact } from './project-paths.js';
import { resourceRequest } from './resource-request.js';
import { checkOverrides, findWorkflow, referencedVariables } from './overrides.js';
import { didYouMean } from './suggest.js';
import {
  RUNTIME_VARIABLES,
  MalformedReferenceError,
  UndefinedVariableError,
  VARIABLES_AS_ARGS,
  environmentReference,
  hasShellSyntax,
  substitute,
  substitutedNames,
  unbracedDashed,
  variablesAsArgs,
  workflowVariables,
} from './variables.js';
import type { ProjectConfig, ProviderDefinition, WorkflowConfig } from './workflow.js';

/** A workflow with its variables substituted and resources parsed: what a provider receives. */
export interface ResolvedWorkflow {
  name: string;
  provider: string;
  /** Set for `provider: {repo, name}`: the repository the provider comes from. */
  providerRepo?: string;
  /** Set when `.dstack/providers.yaml` defines a provider of this name. */
  providerDefinition?: ProviderDefinition;
  image?: string;
  commands: string[];
  environment: Record<string, string>;
  /** Normalised: relative to the project, or absolute (allowed only for a job with an image). */
  artifacts: string[];
  resources: JobResources;
  variables: Record<string, string>;
  inputs?: string[];
  params: Record<string, unknown>;
  location: SourceLocation;
  /** Where each field was written (`commands.1`, `python`), as config/ recorded it. */
  locations: Record<string, SourceLocation>;
}

/** What the planner offers a provider besides the workflow. */
export interface ProviderContext {
  /** A problem that does not stop the run (an ignored parameter), at `field` of the workflow. */
  warn(detail: string, field?: string): void;
}

/** Turns one workflow into job specs; refs must start with the workflow's name. */
export type ProviderFn = (workflow: ResolvedWorkflow, ctx: ProviderContext) => Promise<ProviderJob[]> | ProviderJob[];

/** A job as a provider makes it: dependencies only among the provider's own jobs (by ref). */
export type ProviderJob = Omit<JobSpec, 'dependsOn' | 'workflow'> & { dependsOn?: string[] };

export interface PlanRequest {
  target: string;
  overrides: Record<string, string>;
}

export interface Plan {
  target: string;
  /** Dependencies first; a job's `dependsOn` refs name jobs earlier in this list. */
  jobs: JobSpec[];
  /** Problems that do not stop the run, each prefixed with `file:line:column: `. */
  warnings: string[];
}

export async function plan(config: ProjectConfig, request: PlanRequest, provider: ProviderFn): Promise<Plan> {
  findWorkflow(config, request.target);
  checkOverrides(config, request.target, Object.keys(request.overrides));
  const byName = new Map(config.workflows.map((w) => [w.name, w]));
  // Workflows of this file each one depends on; tag dependencies name runs, not workflows here.
  const local = new Map<string, string[]>();
  for (const wf of config.workflows) {
    const names: string[] = [];
    wf.dependsOn.forEach((dep, i) => {
      if (dep.tag !== undefined) return;
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
    });
    local.set(wf.name, names);
  }
  const order = closure(request.target, (name) => local.get(name) ?? []);
  if (!order.ok) {
    const first = byName.get(order.cycle[0]!)!;
    throw new ConfigError(
      `dependency cycle: ${order.cycle.join(' -> ')}`,
      first.locations['depends-on'] ?? first.location,
      'depends-on',
    );
  }

  const jobs: JobSpec[] = [];
  const warnings = new Set<string>();
  const pasted = new Set<string>();
  const refsOf = new Map<string, string[]>();
  for (const name of order.order) {
    const wf = byName.get(name)!;
    // Built-in providers answer at once: awaiting only promises spares 10,000 microtask turns.
    const planned = planWorkflow(config, wf, request, provider, warnings, pasted);
    const made = planned instanceof Promise ? await planned : planned;
    const upstream = wf.dependsOn.flatMap((d): JobDependency[] => {
      if (d.tag === undefined) return (refsOf.get(d.workflow) ?? []).map((ref) => ({ ref }));
      return [d.workflow === undefined ? { tag: d.tag } : { tag: d.tag, workflow: d.workflow }];
    });
    for (const job of made) {
      const own = job.dependsOn ?? [];
      jobs.push({
        ...job,
        workflow: wf.name,
        dependsOn: [...(own.length === 0 ? upstream : []), ...own.map((ref) => ({ ref }))],
      });
    }
    // Dependents wait for the provider's final jobs: those no other job of it depends on.
    const internal = new Set(made.flatMap((j) => j.dependsOn ?? []));
    refsOf.set(
      name,
      made.map((j) => j.ref).filter((ref) => !internal.has(ref)),
    );
  }
  return { target: request.target, jobs, warnings: [...warnings] };
}

/** One workflow's jobs; an error in a dependency of the target says which target needed it. */
function planWorkflow(
  config: ProjectConfig,
  wf: WorkflowConfig,
  request: PlanRequest,
  provider: ProviderFn,
  warnings: Set<string>,
  pasted: Set<string>,
): ProviderJob[] | Promise<ProviderJob[]> {
  const named = (e: unknown): never => {
    if (!(e instanceof ConfigError) || wf.name === request.target) throw e;
    throw new ConfigError(`${e.detail} (planning '${request.target}', which depends on it)`, e.location, e.field);
  };
  try {
    const ctx: ProviderContext = {
      warn: (detail, field) => {
        const at = (field !== undefined ? wf.locations[field] : undefined) ?? wf.location;
        warnings.add(`${formatLocation(at)}: ${detail}`);
      },
    };
    const resolved = resolveWorkflow(config, wf, request.overrides, ctx.warn, pasted);
    const checked = (made: ProviderJob[]) => {
      for (const job of made) checkHostArtifacts(job, resolved);
      return made;
    };
    const made = provider(resolved, ctx);
    return made instanceof Promise ? made.then(checked).catch(named) : checked(made);
  } catch (e) {
    return named(e);
  }
}

const RUNTIME = new Set<string>(RUNTIME_VARIABLES);
const NONE: ReadonlySet<string> = new Set();

function hasKeys(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
}

export function resolveWorkflow(
  config: ProjectConfig,
  wf: WorkflowConfig,
  overrides: Record<string, string>,
  warn: ProviderContext['warn'] = () => {},
  /** Variables already warned about as pasted into a command: one warning each a run. */
  pasted = new Set<string>(),
): ResolvedWorkflow {
  // The references matter only to let an override through; walking every field of 10,000
  // workflows for them when there is none to let through was a tenth of planning.
  const referenced = hasKeys(overrides) ? referencedVariables(wf) : NONE;
  const vars = workflowVariables(config.variables, wf.name, overrides, referenced);
  const all = new Map(vars);
  all.set(VARIABLES_AS_ARGS, variablesAsArgs(config.variables, wf.name, vars));
  const sub = (text: string, field: string): string => {
    for (const name of unbracedDashed(text, all, RUNTIME)) {
      const head = name.slice(0, name.indexOf('-'));
      warn(
        `'${field}' of workflow '${wf.name}': the shell reads $${name} as $${head} then '${name.slice(head.length)}'; ` +
          `write \${${name}} for the variable '${name}'`,
        field,
      );
    }
    if (field.startsWith('commands.')) warnPasted(text, field);
    try {
      return substitute(text, all, RUNTIME);
    } catch (e) {
      const loc = wf.locations[field] ?? wf.location;
      if (e instanceof MalformedReferenceError) {
        throw new ConfigError(
          `malformed variable reference '${e.text}' in '${field}' of workflow '${wf.name}': ` +
            'write ${{ name }}, a name of letters, digits, _ and -',
          loc,
          field,
        );
      }
      if (!(e instanceof UndefinedVariableError)) throw e;
      throw new ConfigError(
        `undefined variable \${{ ${e.variable} }} in '${field}' of workflow '${wf.name}': ` +
          `define it in .dstack/variables.yaml (under 'global:' or '${wf.name}:'), or pass --${e.variable} VALUE` +
          didYouMean(e.variable, [...all.keys(), ...RUNTIME_VARIABLES]),
        loc,
        field,
      );
    }
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

  /**
   * A value that a field cannot take, blamed on where it came from: the `--name` flag, or the
   * variable's line in variables.yaml, when one variable made it; else the field's own line.
   */
  const badValue = (field: string, raw: string, value: string, expected: string): never => {
    const at = wf.locations[field] ?? wf.location;
    const names = substitutedNames(raw, all);
    const name = names.length === 1 ? names[0]! : undefined;
    if (name !== undefined && overrides[name] !== undefined && vars.get(name) === overrides[name]) {
      throw new UsageError(
        `invalid --${name} '${overrides[name]}': ${field} of workflow '${wf.name}' takes ${expected}`,
      );
    }
    const section = config.variables.perWorkflow[wf.name]?.[name ?? ''] !== undefined ? wf.name : 'global';
    const defined = name === undefined ? undefined : config.variables.locations[`${section}.${name}`];
    if (defined) {
      throw new ConfigError(
        `invalid value '${vars.get(name!)}' of variable '${name}': ${field} of workflow '${wf.name}' ` +
          `(${formatLocation(at)}) takes ${expected}`,
        defined,
      );
    }
    throw new ConfigError(`invalid ${field} '${value}' in workflow '${wf.name}': expected ${expected}`, at, field);
  };

  const artifacts = wf.artifacts.map((a, i) => normalizeArtifact(sub(a, `artifacts.${i}`), wf, `artifacts.${i}`));
  const resolved: ResolvedWorkflow = {
    name: wf.name,
    provider: wf.provider,
    commands: wf.commands.map((c, i) => sub(c, `commands.${i}`)),
    environment: Object.fromEntries(Object.entries(wf.environment).map(([k, v]) => [k, sub(v, `environment.${k}`)])),
    artifacts,
    resources: resourceRequest(wf.resources, sub, badValue, (detail, field) =>
      warn(`'${field}' of workflow '${wf.name}': ${detail}`, field),
    ),
    variables: Object.fromEntries(vars),
    params: substituteParams(wf.params, (text, key) => sub(text, key)),
    location: wf.location,
    locations: wf.locations,
  };
  if (wf.image !== undefined) {
    resolved.image = sub(wf.image, 'image');
    if (!isImageReference(resolved.image)) badValue('image', wf.image, resolved.image, IMAGE_REFERENCE_EXPECTED);
  }
  if (wf.inputs !== undefined) resolved.inputs = wf.inputs.map((glob, i) => checkInput(glob, wf, `inputs.${i}`));
  if (wf.providerRepo !== undefined) resolved.providerRepo = wf.providerRepo;
  const definition = config.providers?.find((p) => p.name === wf.provider);
  if (definition !== undefined && wf.providerRepo === undefined) resolved.providerDefinition = definition;
  return resolved;
}

function substituteParams(
  params: Record<string, unknown>,
  sub: (text: string, field: string) => string,
  prefix = '',
): Record<string, unknown> {
  const walk = (value: unknown, field: string): unknown => {
    if (typeof value === 'string') return sub(value, field);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${field}.${i}`));
    if (value && typeof value === 'object') return substituteParams(value as Record<string, unknown>, sub, `${field}.`);
    return value;
  };
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, walk(v, `${prefix}${k}`)]));
}

/**
 * An absolute artifact path (a conda env under /opt/conda) names a place in the job's own
 * container; on the runner's host it would be the machine's own files, outside every workspace.
 */
function checkHostArtifacts(job: ProviderJob, wf: ResolvedWorkflow): void {
  if (job.image !== undefined) return;
  const path = job.artifacts.find((a) => a.startsWith('/'));
  if (path === undefined) return;
  const index = wf.artifacts.indexOf(path);
  const field = index < 0 ? 'artifacts' : `artifacts.${index}`;
  throw new ConfigError(
    `artifact path '${path}' of workflow '${wf.name}' is absolute, which only a job in a container (with an ` +
      `'image') may use; this one runs on the runner's host (provider ${job.provider}), where dstack keeps nothing ` +
      `outside the job's workspace: use a path inside the project, or give the workflow an image`,
    wf.locations[field] ?? wf.location,
    field,
  );
}
