/**
 * The planner: from a project's config, a target workflow and the run's variable
 * overrides, the job specs of the run, dependencies first. Pure: providers are passed in.
 */
import { closure } from './dag.js';
import { ConfigError, UsageError, type SourceLocation } from './errors.js';
import type { JobDependency, JobSpec } from './job-spec.js';
import { DEFAULT_REQUEST, parseSize, type ResourceRequest } from './resources.js';
import {
  RUNTIME_VARIABLES,
  UndefinedVariableError,
  VARIABLES_AS_ARGS,
  acceptedVariables,
  strictReferences,
  substitute,
  variablesAsArgs,
  workflowVariables,
} from './variables.js';
import type { ProjectConfig, WorkflowConfig } from './workflow.js';

/** A workflow with its variables substituted and resources parsed: what a provider receives. */
export interface ResolvedWorkflow {
  name: string;
  provider: string;
  image?: string;
  commands: string[];
  environment: Record<string, string>;
  artifacts: string[];
  resources: ResourceRequest;
  variables: Record<string, string>;
  inputs?: string[];
  params: Record<string, unknown>;
  location: SourceLocation;
}

/** Turns one workflow into job specs; refs must start with the workflow's name. */
export type ProviderFn = (workflow: ResolvedWorkflow) => Promise<ProviderJob[]> | ProviderJob[];

/** A job as a provider makes it: dependencies only among the provider's own jobs (by ref). */
export type ProviderJob = Omit<JobSpec, 'dependsOn' | 'workflow'> & { dependsOn?: string[] };

export interface PlanRequest {
  target: string;
  overrides: Record<string, string>;
}

export interface Plan {
  target: string;
  jobs: JobSpec[];
}

export function findWorkflow(config: ProjectConfig, name: string): WorkflowConfig {
  const wf = config.workflows.find((w) => w.name === name);
  if (!wf) {
    const names = config.workflows.map((w) => w.name).join(', ') || '(none)';
    throw new UsageError(`no workflow named '${name}' in .dstack/workflows.yaml (workflows: ${names})`);
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
  walk([wf.image, wf.commands, wf.artifacts, wf.resources, wf.environment, wf.params]);
  return names;
}

/** Check `--name value` overrides against what the target workflow accepts. */
export function checkOverrides(config: ProjectConfig, target: string, overrides: Record<string, string>): void {
  const accepted = acceptedVariables(config.variables, target);
  const referenced = new Set(config.workflows.flatMap((w) => [...referencedVariables(w)]));
  for (const name of Object.keys(overrides)) {
    if (!accepted.has(name) && !referenced.has(name)) {
      const known = [...accepted.keys()].map((n) => `--${n}`).join(', ');
      throw new UsageError(
        `unknown option '--${name}' for workflow '${target}'` +
          (known ? ` (its variables: ${known})` : ' (it has no variables; define them in .dstack/variables.yaml)'),
      );
    }
  }
}

export async function plan(config: ProjectConfig, request: PlanRequest, provider: ProviderFn): Promise<Plan> {
  findWorkflow(config, request.target);
  checkOverrides(config, request.target, request.overrides);
  const byName = new Map(config.workflows.map((w) => [w.name, w]));
  const localDeps = (name: string) =>
    (byName.get(name)?.dependsOn ?? []).filter((d) => d.tag === undefined).map((d) => d.workflow);

  for (const wf of config.workflows) {
    wf.dependsOn.forEach((dep, i) => {
      if (dep.tag === undefined && !byName.has(dep.workflow)) {
        throw new ConfigError(
          `workflow '${wf.name}' depends on '${dep.workflow}', which is not defined`,
          wf.locations[`depends-on.${i}`] ?? wf.location,
          'depends-on',
        );
      }
    });
  }
  const order = closure(request.target, localDeps);
  if (!order.ok) {
    const first = byName.get(order.cycle[0]!)!;
    throw new ConfigError(
      `dependency cycle: ${order.cycle.join(' -> ')}`,
      first.locations['depends-on'] ?? first.location,
      'depends-on',
    );
  }

  const jobs: JobSpec[] = [];
  const refsOf = new Map<string, string[]>();
  for (const name of order.order) {
    const wf = byName.get(name)!;
    const resolved = resolveWorkflow(config, wf, request.overrides);
    const made = await provider(resolved);
    const upstream = wf.dependsOn.flatMap((d): JobDependency[] =>
      d.tag === undefined
        ? (refsOf.get(d.workflow) ?? []).map((ref) => ({ ref }))
        : [{ tag: d.tag, workflow: d.workflow }],
    );
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
  return { target: request.target, jobs };
}

const RUNTIME = new Set<string>(RUNTIME_VARIABLES);

export function resolveWorkflow(
  config: ProjectConfig,
  wf: WorkflowConfig,
  overrides: Record<string, string>,
): ResolvedWorkflow {
  const vars = workflowVariables(config.variables, wf.name, overrides, referencedVariables(wf));
  const all = new Map(vars);
  all.set(VARIABLES_AS_ARGS, variablesAsArgs(config.variables, wf.name, vars));
  const sub = (text: string, field: string): string => {
    try {
      return substitute(text, all, RUNTIME);
    } catch (e) {
      if (!(e instanceof UndefinedVariableError)) throw e;
      const loc = wf.locations[field] ?? wf.location;
      throw new ConfigError(
        `undefined variable \${{ ${e.variable} }} in '${field}' of workflow '${wf.name}': ` +
          `define it in .dstack/variables.yaml (under 'global:' or '${wf.name}:'), or pass --${e.variable} VALUE`,
        loc,
        field,
      );
    }
  };

  const artifacts = wf.artifacts.map((a, i) => checkArtifactPath(sub(a, `artifacts.${i}`), wf, `artifacts.${i}`));
  const resolved: ResolvedWorkflow = {
    name: wf.name,
    provider: wf.provider,
    commands: wf.commands.map((c, i) => sub(c, `commands.${i}`)),
    environment: Object.fromEntries(Object.entries(wf.environment).map(([k, v]) => [k, sub(v, `environment.${k}`)])),
    artifacts,
    resources: resolveResources(wf, sub),
    variables: Object.fromEntries(vars),
    params: substituteParams(wf.params, (text, key) => sub(text, key)),
    location: wf.location,
  };
  if (wf.image !== undefined) resolved.image = sub(wf.image, 'image');
  if (wf.inputs !== undefined) resolved.inputs = wf.inputs;
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

function resolveResources(wf: WorkflowConfig, sub: (text: string, field: string) => string): ResourceRequest {
  const r = wf.resources;
  const request: ResourceRequest = { ...DEFAULT_REQUEST };
  const bad = (field: string, value: string, expected: string): never => {
    throw new ConfigError(
      `invalid ${field} '${value}' in workflow '${wf.name}': expected ${expected}`,
      wf.locations[field] ?? wf.location,
      field,
    );
  };
  const count = (field: string, raw: string): number => {
    const value = sub(raw, field).trim();
    if (!/^\d+$/.test(value)) bad(field, value, 'a whole number');
    return Number(value);
  };
  const size = (field: string, raw: string): number => {
    const value = sub(raw, field);
    return parseSize(value) ?? bad(field, value, 'a size like 512MB or 32GB');
  };
  if (r.cpu !== undefined) request.cpu = count('resources.cpu', r.cpu);
  if (r.memory !== undefined) request.memory = size('resources.memory', r.memory);
  if (r.gpu?.count !== undefined) request.gpu = count('resources.gpu', r.gpu.count);
  if (r.gpu?.name !== undefined) request.gpuName = sub(r.gpu.name, 'resources.gpu.name');
  if (r.gpu?.memory !== undefined) request.gpuMemory = size('resources.gpu.memory', r.gpu.memory);
  if (r.shmSize !== undefined) request.shmSize = size('resources.shm_size', r.shmSize);
  return request;
}

/** Artifacts are relative paths inside the project: no absolute paths, no `..` out of it. */
function checkArtifactPath(path: string, wf: WorkflowConfig, field: string): string {
  const loc = wf.locations[field] ?? wf.location;
  if (path.startsWith('/')) {
    throw new ConfigError(
      `artifact path '${path}' of workflow '${wf.name}' is absolute; use a path relative to the project`,
      loc,
      field,
    );
  }
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) {
        throw new ConfigError(`artifact path '${path}' of workflow '${wf.name}' leaves the project folder`, loc, field);
      }
      parts.pop();
    } else parts.push(part);
  }
  if (parts.length === 0) {
    throw new ConfigError(
      `artifact path '${path}' of workflow '${wf.name}' is the project folder itself; name a folder or file inside it`,
      loc,
      field,
    );
  }
  return parts.join('/');
}
