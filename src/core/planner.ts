/**
 * The planner: from a project's config, a target workflow and the run's variable
 * overrides, the job specs of the run, dependencies first. Pure: providers are passed in.
 */
import { ConfigError, formatLocation, type SourceLocation } from './errors.js';
import { mapStrings } from './map-strings.js';
import type { JobDependency, JobResources, JobSpec } from './job-spec.js';
import { IMAGE_REFERENCE_EXPECTED, isImageReference } from './image-reference.js';
import { checkArtifactsApart, checkInput, normalizeArtifact } from './project-paths.js';
import { resourceRequest } from './resource-request.js';
import { checkOverrides, findWorkflow } from './overrides.js';
import { namedForTarget, planOrder, resolveDependencies } from './plan-order.js';
import type { DependencyConfig, ProjectConfig, ProviderDefinition, WorkflowConfig } from './workflow.js';
import { workflowSubstitution, type WorkflowSubstitution } from './workflow-substitution.js';

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
  /** `depends-on`, variables substituted: a tag dependency names a tagged run's jobs. */
  dependsOn: DependencyConfig[];
  params: Record<string, unknown>;
  location: SourceLocation;
  /** Where each field was written (`commands.1`, `python`), as config/ recorded it. */
  locations: Record<string, SourceLocation>;
}

/** What the planner offers a provider besides the workflow. */
export interface ProviderContext {
  /** A problem that does not stop the run (an ignored parameter), at `field` of the workflow. */
  warn(detail: string, field?: string): void;
  /**
   * A parameter the provider refuses (`field`: its path, `shards`, `rates.1`), with what it
   * takes: throws the error that blames its `--flag`, its variable's line, or else its own line,
   * showing the value. Returns when the parameter is no string as written (missing, a list).
   */
  refuseParam?(field: string, expected: string): void;
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
  /** The workflows planned, their variables substituted, in plan order. */
  workflows: ResolvedWorkflow[];
}

export async function plan(config: ProjectConfig, request: PlanRequest, provider: ProviderFn): Promise<Plan> {
  findWorkflow(config, request.target);
  checkOverrides(config, request.target, Object.keys(request.overrides));
  const warnings = new Set<string>();
  const warnAt =
    (wf: WorkflowConfig): ProviderContext['warn'] =>
    (detail, field) => {
      const at = (field !== undefined ? wf.locations[field] : undefined) ?? wf.location;
      warnings.add(`${formatLocation(at)}: ${detail}`);
    };
  const { order, dependsOn } = planOrder(config, request, warnAt);
  const byName = new Map(config.workflows.map((w) => [w.name, w]));
  const jobs: JobSpec[] = [];
  const workflows: ResolvedWorkflow[] = [];
  const pasted = new Set<string>();
  const refsOf = new Map<string, string[]>();
  for (const name of order) {
    const wf = byName.get(name)!;
    // Built-in providers answer at once: awaiting only promises spares 10,000 microtask turns.
    const planned = planWorkflow(config, wf, request, provider, warnAt(wf), pasted, workflows);
    const made = planned instanceof Promise ? await planned : planned;
    const upstream = dependsOn(name).flatMap((d): JobDependency[] => {
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
  return { target: request.target, jobs, warnings: [...warnings], workflows };
}

/** One workflow's jobs; an error in a dependency of the target says which target needed it. */
function planWorkflow(
  config: ProjectConfig,
  wf: WorkflowConfig,
  request: PlanRequest,
  provider: ProviderFn,
  warn: ProviderContext['warn'],
  pasted: Set<string>,
  resolvedOnes: ResolvedWorkflow[],
): ProviderJob[] | Promise<ProviderJob[]> {
  const named = namedForTarget(wf, request.target);
  try {
    const { resolved, badValue } = resolveWith(config, wf, request.overrides, warn, pasted);
    const refuseParam = (field: string, expected: string): void => {
      const raw = valueAt(wf.params, field);
      const value = valueAt(resolved.params, field);
      if (typeof raw === 'string' && typeof value === 'string') badValue(field, raw, value, expected);
    };
    const ctx: ProviderContext = { warn, refuseParam };
    resolvedOnes.push(resolved);
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

export function resolveWorkflow(
  config: ProjectConfig,
  wf: WorkflowConfig,
  overrides: Record<string, string>,
  warn: ProviderContext['warn'] = () => {},
  /** Variables already warned about as pasted into a command: one warning each a run. */
  pasted = new Set<string>(),
): ResolvedWorkflow {
  return resolveWith(config, wf, overrides, warn, pasted).resolved;
}

/** resolveWorkflow, with the substitution's `badValue` for what a provider refuses. */
function resolveWith(
  config: ProjectConfig,
  wf: WorkflowConfig,
  overrides: Record<string, string>,
  warn: ProviderContext['warn'],
  pasted: Set<string>,
): { resolved: ResolvedWorkflow; badValue: WorkflowSubstitution['badValue'] } {
  const { vars, sub, now, badValue } = workflowSubstitution(config, wf, overrides, warn, pasted);
  const artifacts = wf.artifacts.map((a, i) => normalizeArtifact(sub(a, `artifacts.${i}`), wf, `artifacts.${i}`, warn));
  checkArtifactsApart(artifacts, wf);
  const resolved: ResolvedWorkflow = {
    name: wf.name,
    provider: wf.provider,
    commands: wf.commands.map((c, i) => sub(c, `commands.${i}`)),
    environment: Object.fromEntries(Object.entries(wf.environment).map(([k, v]) => [k, sub(v, `environment.${k}`)])),
    artifacts,
    resources: resourceRequest(wf.resources, now, badValue, (detail, field) =>
      warn(`'${field}' of workflow '${wf.name}': ${detail}`, field),
    ),
    dependsOn: resolveDependencies(wf, now),
    variables: Object.fromEntries(vars),
    params: mapStrings(wf.params, (text, key) => sub(text, key)),
    location: wf.location,
    locations: wf.locations,
  };
  if (wf.image !== undefined) {
    resolved.image = now(wf.image, 'image');
    if (!isImageReference(resolved.image)) badValue('image', wf.image, resolved.image, IMAGE_REFERENCE_EXPECTED);
  }
  if (wf.inputs !== undefined) {
    resolved.inputs = wf.inputs.map((glob, i) => checkInput(now(glob, `inputs.${i}`), wf, `inputs.${i}`));
  }
  if (wf.providerRepo !== undefined) resolved.providerRepo = wf.providerRepo;
  const definition = config.providers?.find((p) => p.name === wf.provider);
  if (definition !== undefined && wf.providerRepo === undefined) resolved.providerDefinition = definition;
  return { resolved, badValue };
}

/** The value at a dotted path of a provider's parameters (`rates.1`), as mapStrings names them. */
function valueAt(params: Record<string, unknown>, field: string): unknown {
  let value: unknown = params;
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
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
