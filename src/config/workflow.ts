/** One `workflows:` item into a WorkflowConfig: shape by schema, then meaning, with locations. */
import { ENVIRONMENT_NAME_RULE, isEnvironmentName } from '../core/environment-names.js';
import { ConfigError } from '../core/errors.js';
import { DSTACK_ENVIRONMENT } from '../core/runtime-variables.js';
import { WORKFLOW_NAME, type WorkflowConfig } from '../core/workflow.js';
import { splitCustomParams } from './custom-params.js';
import { readDependencies } from './dependencies.js';
import { validate } from './issues.js';
import { readResources } from './resources.js';
import { simpleWorkflow } from './simple-workflow.js';
import { WorkflowContext } from './workflow-context.js';
import { PARAM_KEYS, WORKFLOW_KEYS, workflowSchema, type RawEnvironment, type RawWorkflow } from './workflow-schema.js';
import type { Path, Plain } from './yaml-source.js';

/** `NAME==VERSION` in `provider:` (`python==3.8`), an early way to pin the version. */
const PINNED = /^([^=\s]+)==(\S+)$/;

/**
 * Keys of later dstack versions that have no meaning here and whose loss would change what
 * the job does: an error that says so, rather than "unknown key".
 */
const UNSUPPORTED: Record<string, string> = {
  mount:
    "dstack mounts no storage into a job; to reuse files that another workflow made, list them in that workflow's " +
    "'artifacts' and add it to 'deps'",
};

/** The keys workflowSchema knows, made once (not once per workflow). */
const KNOWN_KEYS: ReadonlySet<string> = new Set(WORKFLOW_KEYS);

export function readWorkflow(ctx: WorkflowContext, plain: Plain): WorkflowConfig {
  if (plain !== null && typeof plain === 'object' && !Array.isArray(plain)) {
    for (const [key, why] of Object.entries(UNSUPPORTED)) {
      if (key in plain) ctx.fail(`'${key}' of workflow ${ctx.label} is not supported: ${why}`, [key]);
    }
  }
  const split = splitCustomParams(plain, KNOWN_KEYS);
  const raw = simpleWorkflow(split.plain) ?? validate(workflowSchema(), split.plain, ctx);
  if (!WORKFLOW_NAME.test(raw.name)) {
    ctx.fail(
      `invalid workflow name '${raw.name}': use lowercase letters, digits, '-' and '_', starting with a letter or digit`,
      ['name'],
    );
  }
  ctx.label = `'${raw.name}'`;
  ctx.record('name');
  const params: Record<string, unknown> = {};
  for (const key of PARAM_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    params[key] = value;
    ctx.record(key);
    if (Array.isArray(value)) value.forEach((_, i) => ctx.record(`${key}.${i}`, [key, i]));
  }
  for (const [key, value] of Object.entries(split.extra)) {
    params[key] = value;
    recordParam(ctx, [key], value);
  }

  const workflow: WorkflowConfig = {
    name: raw.name,
    provider: readProvider(ctx, raw, params),
    commands: readList(ctx, raw.commands, 'commands'),
    dependsOn: [],
    artifacts: readArtifacts(ctx, raw),
    resources: raw.resources ? readResources(ctx, raw.resources) : {},
    environment: readEnvironment(ctx, raw),
    params,
    locations: ctx.locations,
    location: ctx.lazyAt([]),
  };
  if (raw.provider && typeof raw.provider === 'object') workflow.providerRepo = raw.provider.repo.trim();
  if (raw.image !== undefined) {
    workflow.image = raw.image;
    ctx.record('image');
  }
  if (raw.help !== undefined) {
    workflow.help = raw.help;
    ctx.record('help');
  }

  warnIgnored(ctx, raw);
  const inputs = (raw.inputs ?? []).map((glob, i) => ({ glob, path: ['inputs', i] as Path }));
  const depsKey = only(ctx, raw, 'depends-on', 'deps');
  const deps = depsKey && raw[depsKey];
  if (depsKey && deps) {
    const read = readDependencies(ctx, deps, depsKey);
    workflow.dependsOn = read.dependsOn;
    inputs.push(...read.inputs);
  }
  if (inputs.length > 0 || raw.inputs) {
    workflow.inputs = inputs.map((input) => input.glob);
    inputs.forEach((input, i) => ctx.record(`inputs.${i}`, input.path));
  }
  return workflow;
}

/** Keys of the later format that dstack reads but does not act on: each gets a warning. */
function warnIgnored(ctx: WorkflowContext, raw: RawWorkflow): void {
  if (raw.triggers !== undefined) {
    // Not taken as `inputs`: a trigger's files are those whose change should start a run, not
    // every file the job reads, and narrowing the cache to them would reuse stale results.
    ctx.warn(
      `'triggers' of workflow ${ctx.label} is ignored: dstack starts a run only when you type 'dstack run', ` +
        "never on a change to the repository (to choose which files count for the cache, use 'inputs:')",
      ['triggers'],
    );
  }
  if (raw.ports !== undefined) {
    ctx.warn(`'ports' of workflow ${ctx.label} is ignored: dstack opens no ports for a job`, ['ports']);
  }
  (raw.artifacts ?? []).forEach((artifact, i) => {
    if (typeof artifact === 'string' || artifact.mount === undefined) return;
    ctx.warn(
      `'artifacts.${i}.mount' of workflow ${ctx.label} is ignored: dstack saves artifacts when the job ends ` +
        '(and when it is stopped); it mounts no storage into the job',
      ['artifacts', i, 'mount'],
    );
  });
}

/** `provider:` as written, or the default: docker for an image, bash for bare commands. */
function readProvider(ctx: WorkflowContext, raw: RawWorkflow, params: Record<string, unknown>): string {
  let provider: string | undefined;
  const written = typeof raw.provider === 'string' ? raw.provider : raw.provider?.name;
  if (written?.includes('$')) {
    ctx.fail(
      `'provider' of workflow ${ctx.label} cannot use variables ('${written}'): the provider decides which keys ` +
        'the workflow may have, as the file is read; name it as it is',
      typeof raw.provider === 'string' ? ['provider'] : ['provider', 'name'],
      'provider',
    );
  }
  if (typeof raw.provider === 'string') {
    provider = raw.provider.trim();
    ctx.record('provider');
    const pinned = PINNED.exec(provider);
    if (pinned) {
      if (raw.version !== undefined && raw.version !== pinned[2]) {
        ctx.fail(
          `'provider' of workflow ${ctx.label} pins version ${pinned[2]} but 'version' is ${String(raw.version)}: keep one`,
          ['provider'],
        );
      }
      provider = pinned[1]!;
      params.version = pinned[2]!;
      ctx.record('version', ['provider']);
    }
    if (provider === '')
      ctx.fail(`'provider' of workflow ${ctx.label} is empty: expected a provider name`, ['provider']);
  } else if (raw.provider) {
    // A provider from another repository: by its name, with the repository in `providerRepo`.
    provider = raw.provider.name.trim();
    ctx.record('provider', ['provider', 'name']);
    ctx.record('provider.repo');
    ctx.record('provider.name');
  }
  const hasCommands = raw.commands !== undefined && raw.commands !== null;
  if (provider === undefined) {
    if (raw.image !== undefined) return 'docker';
    if (hasCommands) return 'bash';
    return ctx.fail(
      `workflow ${ctx.label} has nothing to run: give it 'image' and 'commands' (docker), ` +
        `'commands' (bash), or a 'provider'`,
      [],
      'provider',
    );
  }
  // Commands in a given image is what the docker provider does, whatever the provider is called.
  if (provider === 'bash' && raw.image !== undefined) return 'docker';
  if (provider === 'docker' && raw.image === undefined) {
    ctx.fail(`workflow ${ctx.label} uses the docker provider but has no 'image'`, ['provider']);
  }
  return provider;
}

function readList(ctx: WorkflowContext, items: string[] | null | undefined, key: string): string[] {
  if (items === undefined) return [];
  ctx.record(key);
  (items ?? []).forEach((_, i) => ctx.record(`${key}.${i}`, [key, i]));
  return items ?? [];
}

function readArtifacts(ctx: WorkflowContext, raw: RawWorkflow): string[] {
  if (raw.artifacts === undefined) return [];
  ctx.record('artifacts');
  return (raw.artifacts ?? []).map((artifact, i) => {
    if (typeof artifact === 'string') {
      ctx.record(`artifacts.${i}`, ['artifacts', i]);
      return artifact;
    }
    ctx.record(`artifacts.${i}`, ['artifacts', i, 'path']);
    return artifact.path;
  });
}

/** `environment:` or `env:`, as a mapping or a `NAME=value` list. */
function readEnvironment(ctx: WorkflowContext, raw: RawWorkflow): Record<string, string> {
  const key = only(ctx, raw, 'environment', 'env');
  const env: RawEnvironment | null | undefined = key && raw[key];
  if (!key || env === undefined) return {};
  ctx.record('environment', [key]);
  const result: Record<string, string> = {};
  const entries = Array.isArray(env)
    ? env.map((item, i): [string, string, Path] => {
        const eq = item.indexOf('=');
        if (eq <= 0) ctx.fail(`'${key}.${i}' of workflow ${ctx.label} must be NAME=value, not '${item}'`, [key, i]);
        return [item.slice(0, eq).trim(), item.slice(eq + 1), [key, i]];
      })
    : Object.entries(env ?? {}).map(([name, value]): [string, string, Path] => [name, value ?? '', [key, name]]);
  for (const [name, value, path] of entries) {
    if (!isEnvironmentName(name)) {
      throw new ConfigError(
        `environment variable name '${name}' of workflow ${ctx.label} is not valid: ${ENVIRONMENT_NAME_RULE}`,
        Array.isArray(env) ? ctx.at(path) : ctx.atKey(path),
        path.join('.'),
      );
    }
    if (DSTACK_ENVIRONMENT.has(name)) {
      throw new ConfigError(
        `environment variable '${name}' of workflow ${ctx.label} is one dstack sets for every job: rename it ` +
          `(a value may name it: $${name})`,
        Array.isArray(env) ? ctx.at(path) : ctx.atKey(path),
        path.join('.'),
      );
    }
    result[name] = value;
    ctx.record(`environment.${name}`, path);
  }
  return result;
}

/** Which of two spellings of one field is used; both at once is an error. */
function only<A extends keyof RawWorkflow, B extends keyof RawWorkflow>(
  ctx: WorkflowContext,
  raw: RawWorkflow,
  a: A,
  b: B,
): A | B | undefined {
  if (raw[a] !== undefined && raw[b] !== undefined) {
    ctx.fail(`workflow ${ctx.label} has both '${a}' and '${b}': they are the same field, keep one`, [b]);
  }
  if (raw[a] !== undefined) return a;
  return raw[b] !== undefined ? b : undefined;
}

/** Where a custom provider's parameter and each value inside it were written (`rates.1`), for what the provider refuses. */
function recordParam(ctx: WorkflowContext, path: (string | number)[], value: unknown): void {
  ctx.record(path.join('.'), path);
  if (Array.isArray(value)) value.forEach((item, i) => recordParam(ctx, [...path, i], item));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) recordParam(ctx, [...path, key], item);
  }
}
