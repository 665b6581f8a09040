/**
 * The provider registry the planner calls: the built-ins (pure), then custom providers
 * (programs and JavaScript modules of the project, an npm package, another repository).
 */
import { formatLocation, InternalError } from '../core/errors.js';
import type { ProviderFn } from '../core/planner.js';
import type { ProjectConfig } from '../core/workflow.js';
import { readProviderSettings, readSettings, type ProviderSettings } from '../settings.js';
import { builtinJobs, isBuiltinProvider } from './builtin.js';
import { checkRequirementsFile, checkScriptFile } from './python-files.js';
import { unsupportedProvider } from './unsupported.js';

export { BUILTIN_PROVIDERS } from './builtin.js';

export interface RegistryOptions {
  /** The project: custom providers are found in it and run in its folder. Without it only built-ins plan. */
  config?: ProjectConfig;
  /** $DSTACK_HOME (providers from other repositories are cloned under it); default from the environment. */
  home?: string;
  settings?: ProviderSettings;
}

export function providerRegistry(options: RegistryOptions = {}): ProviderFn {
  const config = options.config;
  // Custom providers (with zod, the executors and git) are loaded for the first workflow that uses one.
  let custom: Promise<ProviderFn> | undefined;
  const loadCustom = (project: ProjectConfig): Promise<ProviderFn> =>
    import('./custom/custom.js').then(({ customProviders }) =>
      customProviders({
        root: project.root,
        definitions: project.providers ?? [],
        home: options.home ?? readSettings().home,
        settings: options.settings ?? readProviderSettings(undefined, { planning: true }),
      }),
    );
  return (workflow, ctx) => {
    if (workflow.providerRepo === undefined && isBuiltinProvider(workflow.provider)) {
      const shadow = workflow.providerDefinition;
      if (shadow !== undefined) {
        // dstack's own repository once defined its built-ins there; the built-in is what runs.
        ctx.warn(
          `workflow '${workflow.name}' uses the built-in '${shadow.name}' provider; the '${shadow.name}' that ` +
            `${formatLocation(shadow.location)} defines is not used`,
          'provider',
        );
      }
      const jobs = builtinJobs(workflow, ctx);
      // Without the project (planning built-ins alone) there are no files to look at.
      if (workflow.provider === 'python' && config !== undefined) {
        checkScriptFile(workflow, config.root);
        checkRequirementsFile(workflow, config.root);
      }
      return jobs;
    }
    const error = unsupportedProvider(workflow);
    if (error) throw error;
    if (config === undefined)
      throw new InternalError(`custom provider '${workflow.provider}' planned without its project`);
    custom ??= loadCustom(config);
    return custom.then((fn) => fn(workflow, ctx));
  };
}
