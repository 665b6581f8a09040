/**
 * Custom providers at plan time: find the provider, give it the workflow and the run's
 * context, and make its output the workflow's jobs. Anything wrong is a ConfigError at the
 * workflow's `provider:` that names the provider and what was wrong; nothing is submitted.
 */
import { ConfigError } from '../../core/errors.js';
import type { ProviderContext, ProviderJob, ResolvedWorkflow } from '../../core/planner.js';
import { didYouMean } from '../../core/suggest.js';
import type { ProviderDefinition } from '../../core/workflow.js';
import type { ProviderSettings } from '../../settings.js';
import { BUILTIN_PROVIDERS } from '../builtin.js';
import type { ProviderInput } from './contract.js';
import { jobsFromOutput } from './custom-jobs.js';
import { providerInput, repoInfo } from './input.js';
import { checkParams, loadModule, resolvePackage } from './module.js';
import { runProgram } from './program.js';
import { checkoutProviderRepo, splitRef } from './repo.js';
import { findInFolder, moduleNames, type ProviderSource } from './resolve.js';

export interface CustomProviderOptions {
  /** The project's folder. */
  root: string;
  /** `.dstack/providers.yaml` of the project, as config/ read it. */
  definitions: readonly ProviderDefinition[];
  /** $DSTACK_HOME: providers from other repositories are cloned under it. */
  home: string;
  settings: ProviderSettings;
}

export function customProviders(options: CustomProviderOptions) {
  let repo: Promise<ProviderInput['repo']> | undefined;
  return async (wf: ResolvedWorkflow, ctx: ProviderContext): Promise<ProviderJob[]> => {
    const at = wf.locations['provider'] ?? wf.location;
    const fail = (detail: string) =>
      new ConfigError(`workflow '${wf.name}' uses provider '${wf.provider}'${detail}`, at, 'provider');
    const source = await find(wf, options, ctx, fail);
    const named = (detail: string) =>
      new ConfigError(`provider '${wf.provider}' (${source.where}) of workflow '${wf.name}' ${detail}`, at, 'provider');
    repo ??= repoInfo(options.root);
    const project = await repo;
    const provider = { name: wf.provider, ...(wf.providerRepo ? { repo: wf.providerRepo } : {}) };
    const input = (projectDir: string) => providerInput(wf, provider, project, projectDir);
    let output: unknown;
    if (source.kind === 'program') {
      try {
        output = await runProgram(source, input, options.root, options.settings);
      } catch (e) {
        throw named((e as Error).message);
      }
    } else {
      output = await runModule(source, input(options.root), options.settings, ctx, named);
    }
    return jobsFromOutput(output, wf, wf.provider, (detail) => named(`returned an invalid job spec: ${detail}`));
  };
}

async function find(
  wf: ResolvedWorkflow,
  options: CustomProviderOptions,
  ctx: ProviderContext,
  fail: (detail: string) => ConfigError,
): Promise<ProviderSource> {
  if (wf.provider.startsWith('npm:')) {
    const pkg = wf.provider.slice('npm:'.length);
    const file = await resolvePackage(pkg, options.root);
    if (file === undefined) throw fail(`, an npm package that is not installed in the project: run npm install ${pkg}`);
    return { kind: 'module', file, where: `npm package ${pkg}` };
  }
  if (wf.providerRepo !== undefined) {
    const { name, branch } = splitRef(wf.provider);
    let dir: string;
    try {
      dir = await checkoutProviderRepo(wf.providerRepo, branch, options.home, (text) => ctx.warn(text, 'provider'));
    } catch (e) {
      throw fail(` from another repository, which dstack cannot get: ${(e as Error).message}`);
    }
    const found = await findInFolder(dir, name, wf.providerRepo);
    if (found === undefined) {
      throw fail(
        `, which ${wf.providerRepo} does not define (in .dstack/providers.yaml or .dstack/providers/${name}.mjs)`,
      );
    }
    if ('conflict' in found) throw fail(` from ${wf.providerRepo}, which ${found.conflict}`);
    return found;
  }
  const found = await findInFolder(options.root, wf.provider, '.', options.definitions);
  if (found === undefined) {
    const known = [
      ...BUILTIN_PROVIDERS,
      ...options.definitions.map((d) => d.name),
      ...(await moduleNames(options.root)),
    ];
    throw fail(
      `, which is neither a built-in provider (${BUILTIN_PROVIDERS.join(', ')}) nor defined in ` +
        `.dstack/providers.yaml or .dstack/providers/${wf.provider}.mjs` +
        didYouMean(wf.provider, known),
    );
  }
  if ('conflict' in found) throw fail(`, which ${found.conflict}`);
  return found;
}

async function runModule(
  source: Extract<ProviderSource, { kind: 'module' }>,
  input: ProviderInput,
  settings: ProviderSettings,
  ctx: ProviderContext,
  named: (detail: string) => ConfigError,
): Promise<unknown> {
  let module;
  try {
    module = await loadModule(source.file);
  } catch (e) {
    // Node gives an ES module's syntax error no line; its --check does.
    const where = e instanceof SyntaxError ? ` (node --check ${source.file} shows where)` : '';
    throw named(`cannot be loaded: ${(e as Error).message}${where}`);
  }
  if (source.name !== undefined && module.name !== source.name) {
    throw named(`exports the name '${module.name}'; a module in .dstack/providers/ is named after its file`);
  }
  const checked = await checkParams(module.schema, input.workflow.params);
  if ('problem' in checked) {
    // A value given by a flag or a variable is blamed there, with the value (zod's `received NaN` hides it).
    if (checked.field !== undefined) {
      ctx.refuseParam?.(
        checked.field,
        `a value provider '${module.name}' (${source.where}) accepts (${checked.message})`,
      );
    }
    throw named(`does not accept the workflow's parameters: ${checked.problem}`);
  }
  const context = {
    variables: input.variables,
    repo: input.repo,
    project_dir: input.project_dir,
    warn: (message: string) => ctx.warn(`provider '${module.name}': ${message}`, 'provider'),
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not finish within ${settings.providerTimeoutSeconds} s (DSTACK_PROVIDER_TIMEOUT)`)),
      settings.providerTimeoutSeconds * 1000,
    );
  });
  try {
    return await Promise.race([
      Promise.resolve().then(() => module.createJobs({ ...input.workflow, params: checked.params }, context)),
      timeout,
    ]);
  } catch (e) {
    const message = (e as Error).message;
    throw named(message.startsWith('did not finish') ? message : `failed: ${message}`);
  } finally {
    clearTimeout(timer);
  }
}
