/**
 * The built-in providers. Each turns a resolved workflow into job specs; they are pure,
 * so planning (and `--dry-run`) needs no runner. How a spec runs is the runner's business.
 */
import { posix } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { majorMinor } from '../core/job-needs.js';
import { isExclusion } from '../core/project-paths.js';
import { notAPackage, requirementsOf } from '../core/python-requirements.js';
import type { ProviderContext, ProviderJob, ResolvedWorkflow } from '../core/planner.js';
import { didYouMean } from '../core/suggest.js';

export const BUILTIN_PROVIDERS = ['bash', 'docker', 'python', 'curl'] as const;
export type BuiltinProvider = (typeof BUILTIN_PROVIDERS)[number];

export function isBuiltinProvider(name: string): name is BuiltinProvider {
  return (BUILTIN_PROVIDERS as readonly string[]).includes(name);
}

/** The spellings of the python provider's script parameter. */
const SCRIPT_KEYS = ['python_script', 'script', 'file'] as const;

/** The parameters each built-in provider uses; any other is ignored with a warning. */
const USES: Record<BuiltinProvider, readonly string[]> = {
  bash: [],
  docker: [],
  python: [...SCRIPT_KEYS, 'requirements', 'python', 'version'],
  curl: ['url', 'output'],
};

/** Spellings of one parameter: a workflow gives at most one of each group. */
const SAME = [SCRIPT_KEYS, ['python', 'version']] as const;

const NO_WARNINGS: ProviderContext = { warn: () => undefined };

function baseJob(wf: ResolvedWorkflow): ProviderJob {
  const job: ProviderJob = {
    ref: wf.name,
    provider: wf.provider,
    commands: wf.commands,
    env: wf.environment,
    variables: wf.variables,
    artifacts: wf.artifacts,
    resources: wf.resources,
    params: wf.params,
  };
  if (wf.image !== undefined) job.image = wf.image;
  if (wf.inputs !== undefined) job.inputs = withOwnFiles(wf.inputs, ownFiles(wf));
  return job;
}

/**
 * `inputs` and the files the provider reads from the code itself, as globs that match them alone: those
 * count for the key whatever `inputs` say (a python job's script and requirements are its code). They
 * come last, where no exclusion of the workflow's (`!*.py`) can follow them: the last glob that matches decides.
 */
function withOwnFiles(inputs: readonly string[], files: readonly string[]): string[] {
  const globs = files.map((file) => file.replace(/[\\*?[\]{}()!+@|]/g, '\\$&'));
  // Without exclusions, a workflow's own listing of its script stays where it is (and its key as it was).
  const before = inputs.some(isExclusion) ? inputs.filter((glob) => !globs.includes(glob)) : inputs;
  return [...before, ...globs.filter((glob) => !before.includes(glob))];
}

/** The files of the project a built-in provider reads itself: the python provider's script and requirements. */
function ownFiles(wf: ResolvedWorkflow): string[] {
  if (wf.provider !== 'python') return [];
  const files: string[] = [];
  const script = pythonScript(wf)?.file;
  if (script !== undefined) files.push(script);
  const requirements = param(wf, 'requirements')?.trim();
  if (requirements !== undefined) files.push(requirements);
  return files.map((file) => posix.normalize(file)).filter((file) => !file.startsWith('/') && !file.startsWith('../'));
}

/**
 * The python provider's script file and the key that names it. The parameter goes to the
 * shell with its arguments (python-job.ts): the file is its first word, unquoted, unless that
 * is an option (`-m http.server` names a module).
 */
export function pythonScript(wf: ResolvedWorkflow): { file: string; key: string } | undefined {
  const key = SCRIPT_KEYS.find((k) => param(wf, k) !== undefined);
  if (key === undefined) return undefined;
  const script = /^\s*(?:'([^']*)'|"([^"]*)"|([^\s'"]+))/.exec(param(wf, key)!);
  const file = script?.[1] ?? script?.[2] ?? script?.[3];
  return file === undefined || file.startsWith('-') ? undefined : { file, key };
}

/** The first of `names` the workflow sets to more than blanks, as written. */
function param(wf: ResolvedWorkflow, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = wf.params[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

function requireParam(wf: ResolvedWorkflow, ...names: string[]): string {
  const value = param(wf, ...names);
  if (value !== undefined) return value;
  // Written but blank (`python_script: ""`, or a variable that is empty): at its line, saying so.
  const blank = names.find((name) => typeof wf.params[name] === 'string');
  if (blank !== undefined) {
    throw new ConfigError(
      `'${blank}' of workflow '${wf.name}' is empty: the ${wf.provider} provider needs it`,
      wf.locations[blank] ?? wf.location,
      blank,
    );
  }
  const listed = names.find((name) => Array.isArray(wf.params[name]));
  if (listed !== undefined) {
    throw new ConfigError(
      `'${listed}' of workflow '${wf.name}' must be one value, not a list`,
      wf.locations[listed] ?? wf.location,
      listed,
    );
  }
  throw new ConfigError(
    `workflow '${wf.name}' uses the ${wf.provider} provider, which needs '${names[0]}'`,
    wf.location,
    names[0],
  );
}

export function builtinJobs(wf: ResolvedWorkflow, ctx: ProviderContext = NO_WARNINGS): ProviderJob[] {
  const provider = wf.provider as BuiltinProvider;
  switch (provider) {
    case 'bash':
    case 'docker':
      if (wf.commands.length === 0) {
        throw new ConfigError(
          `workflow '${wf.name}' has no commands to run`,
          wf.locations['commands'] ?? wf.location,
          'commands',
        );
      }
      warnUnused(wf, provider, ctx);
      return [baseJob(wf)];
    case 'python':
      checkSpellings(wf);
      requireParam(wf, ...SCRIPT_KEYS);
      checkPythonVersion(wf);
      checkPackages(wf);
      warnUnused(wf, provider, ctx);
      return [baseJob(wf)];
    case 'curl':
      checkUrl(wf, requireParam(wf, 'url'));
      checkOutput(wf, requireParam(wf, 'output'), requireParam(wf, 'url'));
      warnUnused(wf, provider, ctx);
      return [baseJob(wf)];
    default:
      throw new ConfigError(
        `workflow '${wf.name}' uses provider '${wf.provider}', which is not a built-in provider ` +
          `(built-in: ${BUILTIN_PROVIDERS.join(', ')})` +
          didYouMean(wf.provider, BUILTIN_PROVIDERS),
        wf.locations['provider'] ?? wf.location,
        'provider',
      );
  }
}

/** The runner downloads with fetch: http and https only. */
function checkUrl(wf: ResolvedWorkflow, url: string): void {
  if (/^https?:\/\/[^/\s]+/i.test(url.trim())) return;
  throw new ConfigError(
    `invalid url '${url}' of workflow '${wf.name}': expected an http:// or https:// URL`,
    wf.locations['url'] ?? wf.location,
    'url',
  );
}

/** Where the download goes: a file inside the project, like any artifact. */
function checkOutput(wf: ResolvedWorkflow, output: string, url: string): void {
  const parts = output.trim().split('/');
  const fail = (detail: string): never => {
    throw new ConfigError(
      `output '${output}' of workflow '${wf.name}' ${detail}`,
      wf.locations['output'] ?? wf.location,
      'output',
    );
  };
  if (output.trim().startsWith('/') || parts.includes('..'))
    fail("must be a path inside the project (relative, without '..')");
  // `raw/` reads as "into this folder", but the download was written to a file named `raw`.
  const last = parts[parts.length - 1];
  if (last === '' || last === '.') {
    const name = /^[^?#]*\/([^/?#$]+)(?:[?#]|$)/.exec(url.trim().replace(/^https?:\/\/[^/]*/i, ''))?.[1];
    const folder = parts.filter((p) => p !== '' && p !== '.').join('/');
    const example = `${folder === '' ? '' : `${folder}/`}${name ?? 'data.bin'}`;
    fail(`names a folder: the curl provider writes one file, so name it (output: ${example})`);
  }
}

function checkSpellings(wf: ResolvedWorkflow): void {
  for (const group of SAME) {
    const given = group.filter((key) => wf.params[key] !== undefined);
    if (given.length > 1) {
      throw new ConfigError(
        `workflow '${wf.name}' has both '${given[0]}' and '${given[1]}': they are the same parameter, keep one`,
        wf.locations[given[1]!] ?? wf.location,
        given[1],
      );
    }
  }
}

/** A list of packages holds packages: not pip's options, nor a requirements file's name. */
function checkPackages(wf: ResolvedWorkflow): void {
  const requirements = requirementsOf(wf.params);
  const listed = wf.params['requirements'];
  if (requirements === undefined || 'file' in requirements || !Array.isArray(listed)) return;
  // By the list as written (requirementsOf drops blank items), so the error points at the item.
  listed.forEach((item, i) => {
    const entry = String(item).trim();
    const problem = entry === '' ? undefined : notAPackage(entry);
    if (problem === undefined) return;
    throw new ConfigError(
      `'${entry}' in the requirements of workflow '${wf.name}' ${problem}`,
      wf.locations[`requirements.${i}`] ?? wf.locations['requirements'] ?? wf.location,
      `requirements.${i}`,
    );
  });
}

/** `3`, `3.8`, `3.10` (read as written, so never 3.1), `3.10.4`. */
function checkPythonVersion(wf: ResolvedWorkflow): void {
  for (const key of ['python', 'version']) {
    const value = wf.params[key];
    if (value === undefined || (typeof value === 'string' && /^\d+(\.\d+){0,2}$/.test(value.trim()))) continue;
    throw new ConfigError(
      `invalid Python version '${String(value)}' in '${key}' of workflow '${wf.name}': expected a version such as 3.8 or 3.10`,
      wf.locations[key] ?? wf.location,
      key,
    );
  }
}

/** A warning for each parameter the provider does not act on: never a silent loss. */
function warnUnused(wf: ResolvedWorkflow, provider: BuiltinProvider, ctx: ProviderContext): void {
  for (const [key, value] of Object.entries(wf.params)) {
    if (USES[provider].includes(key)) continue;
    if (key === 'requirements' && installsRequirements(wf.commands, value)) continue;
    ctx.warn(`'${key}' of workflow '${wf.name}' is ignored: ${whyUnused(key, value, provider, wf)}`, key);
  }
  if (provider === 'python' && wf.image !== undefined) {
    // The job runs in the image (python-job.ts: `image ?? python:VERSION`), with its Python. Without
    // one it runs on the runner's host unless the runner has DSTACK_PYTHON_RUNTIME=docker, which
    // the plan cannot know: the advice holds for both.
    for (const key of ['python', 'version'].filter((k) => wf.params[k] !== undefined)) {
      const version = majorMinor(String(wf.params[key]).trim());
      ctx.warn(
        `'${key}' of workflow '${wf.name}' is ignored: the job runs in its image ${wf.image}, with that image's ` +
          `Python (for Python ${version}, set 'image: python:${version}'; or leave out 'image' to use the runner's ` +
          `python${version}, or the python:${version} image on a runner with DSTACK_PYTHON_RUNTIME=docker)`,
        key,
      );
    }
  }
  // A python job may run in a container (DSTACK_PYTHON_RUNTIME=docker on its runner); these never do.
  if ((provider === 'bash' || provider === 'curl') && wf.resources.shmSize !== undefined) {
    ctx.warn(
      `'resources.shm_size' of workflow '${wf.name}' is ignored: it sizes a container's /dev/shm, and the ` +
        `${provider} provider runs on the runner's host (give the workflow an image to run it in a container)`,
      'resources.shm_size',
    );
  }
  if ((provider === 'python' || provider === 'curl') && wf.commands.length > 0) {
    ctx.warn(
      `'commands' of workflow '${wf.name}' are ignored: the ${provider} provider runs ` +
        (provider === 'python' ? 'its script' : 'no commands: it downloads the url'),
      'commands',
    );
  }
}

function whyUnused(key: string, value: unknown, provider: BuiltinProvider, wf: ResolvedWorkflow): string {
  const runs = provider === 'bash' ? "on the runner's host" : `in the image ${wf.image ?? ''}`;
  switch (key) {
    case 'python':
    case 'version':
      return (
        `the ${provider} provider runs its commands with the Python ${runs}` +
        (provider === 'bash' ? `; to choose the version, run them in an image (image: python:${String(value)})` : '')
      );
    case 'requirements': {
      const install = Array.isArray(value) ? value.map(String).join(' ') : `-r ${String(value)}`;
      return `the ${provider} provider installs nothing by itself; add 'pip install ${install}' to its commands`;
    }
    case 'python_script':
    case 'script':
    case 'file':
      return `the ${provider} provider runs its 'commands' (use provider: python to run a script)`;
    default:
      return `the ${provider} provider does not use it`;
  }
}

/** Whether a command already installs the requirements file (`pip install -r requirements.txt`). */
function installsRequirements(commands: readonly string[], file: unknown): boolean {
  if (typeof file !== 'string') return false;
  return commands.some((c) => /\bpip3?\b/.test(c) && c.includes(`-r ${file.trim()}`));
}
