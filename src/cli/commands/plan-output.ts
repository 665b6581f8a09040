/**
 * What `dstack run` prints without running anything: the plan of `--dry-run`, the workflow
 * list of `dstack run --help`, and one workflow's variables for `dstack run WF --help`.
 */
import pc from 'picocolors';
import { dependencyLabel, type JobDependency, type JobResources, type JobSpec } from '../../core/job-spec.js';
import { undefinedReferences } from '../../core/overrides.js';
import type { Plan } from '../../core/planner.js';
import { ANOTHER_USERS_JOB } from '../../core/records.js';
import { formatSize } from '../../core/resources.js';
import { RUNTIME_VARIABLES, VARIABLES_AS_ARGS, acceptedVariables, shellQuote } from '../../core/variables.js';
import type { ProjectConfig } from '../../core/workflow.js';
import { HIDDEN_VARIABLES, RUN_OPTIONS_HELP } from './run-args.js';

/**
 * What the server would make of a plan, for a preview that asks it (no dry run does yet).
 * Without it, tag dependencies and cache reuse are shown as decided at submission.
 */
export interface PlanPreview {
  /** Per tag dependency label (`prepare:latest`, `:mnist_data`): the run it resolves to, or null when no run has the tag. */
  tags?: Record<string, string | null>;
  /** Per job ref the cache would reuse: the id of the finished job it would point at. */
  cached?: Record<string, string>;
  /** The refs in `cached` whose job is another user's: named so, without its id. */
  cachedFromAnotherUser?: string[];
  /** Per job ref that runs anew after an earlier job: what changed since. */
  anew?: Record<string, string>;
}

const LABEL = 15;
const WIDTH = 100;

/** The plan as plain text: the jobs in order, each with everything it would run with. */
export function formatPlan(plan: Plan, preview: PlanPreview = {}): string {
  const index = new Map(plan.jobs.map((job, i) => [job.ref, i + 1]));
  const count = plan.jobs.length;
  const out: string[] = [
    `Plan for '${plan.target}': ${count} job${count === 1 ? '' : 's'}, dependencies first (dry run: nothing is submitted)`,
  ];
  plan.jobs.forEach((job, i) => out.push('', ...formatJob(job, i + 1, index, preview)));
  out.push('');
  if (preview.cached === undefined) {
    out.push('Jobs that already ran with the same code and spec are reused when the run is submitted.');
  }
  return out.join('\n') + '\n';
}

function formatJob(job: JobSpec, n: number, index: Map<string, number>, preview: PlanPreview): string[] {
  const lines = [`${n}. ${pc.bold(job.ref)}${job.ref === job.workflow ? '' : ` (workflow ${job.workflow})`}`];
  const field = (label: string, values: string[]) => {
    values.forEach((value, i) => lines.push(`   ${(i === 0 ? label : '').padEnd(LABEL)}${value}`));
  };
  field('provider', [job.provider]);
  if (job.image !== undefined) field('image', [job.image]);
  for (const [key, value] of Object.entries(job.params)) field(key, [formatParam(value)]);
  if (job.commands.length > 0) field('commands', job.commands);
  if (job.workingDir !== undefined) field('working dir', [job.workingDir]);
  field('resources', [formatResources(job.resources)]);
  if (job.artifacts.length > 0) field('artifacts', job.artifacts);
  if (job.inputs !== undefined) field('inputs', [job.inputs.join(', ') || '(none: no file counts for the cache)']);
  const deps = job.dependsOn.map((d) => formatDependency(d, index, preview));
  if (deps.length > 0) field('depends on', deps);
  // Quoted as a shell would need them, so that a value with a space reads as one value.
  const env = Object.entries(job.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  if (env.length > 0) field('environment', wrap(env));
  const vars = Object.entries(job.variables).map(([k, v]) => `${k}=${shellQuote(v)}`);
  field('variables', vars.length > 0 ? wrap(vars) : ['(none)']);
  const cached = preview.cached?.[job.ref];
  const source = preview.cachedFromAnotherUser?.includes(job.ref) ? ANOTHER_USERS_JOB : `job ${cached}`;
  const why = preview.anew?.[job.ref];
  if (preview.cached !== undefined) field('cache', [cached ? `reuses ${source}` : `runs anew${why ? `: ${why}` : ''}`]);
  return lines;
}

function formatParam(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(formatParam).join(', ');
  return JSON.stringify(value);
}

function formatDependency(dep: JobDependency, index: Map<string, number>, preview: PlanPreview): string {
  if ('ref' in dep) return `${dep.ref} (job ${index.get(dep.ref) ?? '?'})`;
  const label = dependencyLabel(dep);
  const what = dep.workflow === undefined ? 'tag; every job of the tagged run' : 'tag';
  const resolved = preview.tags?.[label];
  if (preview.tags === undefined || resolved === undefined)
    return `${label} (${what}; resolved when the run is submitted)`;
  return resolved === null ? `${label} (${what}; no run has this tag)` : `${label} (${what}; run ${resolved})`;
}

/** `cpu 8, memory 60GB, gpu 1 (V100, 16GB), shm 16GB, interruptible`. */
export function formatResources(r: JobResources): string {
  const parts = [`cpu ${r.cpu}`];
  if (r.memory > 0) parts.push(`memory ${size(r.memory)}`);
  const gpu = [r.gpuName, r.gpuMemory === undefined ? undefined : size(r.gpuMemory)].filter((x) => x !== undefined);
  if (r.gpu > 0 || gpu.length > 0) parts.push(`gpu ${r.gpu}${gpu.length > 0 ? ` (${gpu.join(', ')})` : ''}`);
  if (r.shmSize !== undefined) parts.push(`shm ${size(r.shmSize)}`);
  if (r.interruptible) parts.push('interruptible');
  return parts.join(', ');
}

/** Sizes as users write them: 16GiB stays 16GiB, 60GB stays 60GB. */
function size(bytes: number): string {
  for (const [unit, factor] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['TB', 1e12],
    ['GB', 1e9],
    ['MB', 1e6],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return formatSize(bytes);
}

/** Items joined by spaces, in lines no wider than the terminal's usual width. */
function wrap(items: string[]): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && 3 + LABEL + line.length + 1 + item.length > WIDTH) {
      lines.push(line);
      line = item;
    } else line = line === '' ? item : `${line} ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** `dstack run --help`: the usage, and each workflow with its `help:` text. */
export function formatWorkflowList(config: ProjectConfig): string {
  const names = config.workflows.map((w) => w.name);
  const width = Math.max(0, ...names.map((n) => n.length)) + 4;
  const lines = config.workflows.map((w) => `    ${w.name.padEnd(width)}${w.help ?? `run ${w.name} workflow`}`);
  return `usage: dstack run {${names.join(',')}} ...\n\npositional arguments:\n${lines.join('\n')}\n\n${RUN_OPTIONS_HELP}`;
}

/** `dstack run WF --help`: the workflow's help text and the variables it accepts. */
export function formatWorkflowHelp(config: ProjectConfig, workflow: string): string {
  const wf = config.workflows.find((w) => w.name === workflow);
  const accepted = acceptedVariables(config.variables, workflow);
  const described = [...accepted].map(([n, v]): [string, string] => [n, `default is ${v === '' ? '""' : v}`]);
  const optional = described.filter(([n]) => !HIDDEN_VARIABLES.has(n));
  const hidden = described.filter(([n]) => HIDDEN_VARIABLES.has(n));
  // A `${{ name }}` with no value, in the workflow or a dependency, must be passed: say so here rather than at run time.
  const required: [string, string][] = [...(wf ? undefinedReferences(config, workflow, { knownRunOnly: true }) : [])]
    .filter((n) => !accepted.has(n) && n !== VARIABLES_AS_ARGS && !(RUNTIME_VARIABLES as readonly string[]).includes(n))
    .map((n) => [n, `no default: \${{ ${n} }} has no value in .dstack/variables.yaml`]);
  const all = [...required, ...optional];
  // A flag may be left out, its value may not (`--epochs` alone is an error): `EPOCHS`, never `[EPOCHS]`.
  const flag = (n: string) => `--${n} ${n.toUpperCase()}`;
  const usage = [...required.map(([n]) => flag(n)), ...optional.map(([n]) => `[${flag(n)}]`)].join(' ');
  const width = Math.max(0, ...all.map(([n]) => flag(n).length), ...hidden.map(([n]) => n.length)) + 2;
  const section = (title: string, vars: [string, string][]) =>
    vars.length === 0 ? '' : `${title}:\n` + vars.map(([n, text]) => `  ${flag(n).padEnd(width)}${text}\n`).join('');
  const help = wf?.help;
  return (
    `usage: dstack run ${workflow} ${usage}\n${help ? `\n${help}\n` : ''}\n` +
    (all.length + hidden.length
      ? section('required arguments', required) +
        section('optional arguments', optional) +
        (hidden.length === 0
          ? ''
          : "variables that dstack run's own options hide (set them in .dstack/variables.yaml):\n" +
            hidden.map(([n, text]) => `  ${n.padEnd(width)}${text}\n`).join(''))
      : 'This workflow has no variables.\n') +
    `\n${RUN_OPTIONS_HELP}`
  );
}
