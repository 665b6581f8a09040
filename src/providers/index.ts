/** The provider registry the planner calls: built-ins today, custom providers later. */
import { formatLocation } from '../core/errors.js';
import type { ProviderFn } from '../core/planner.js';
import { builtinJobs, isBuiltinProvider } from './builtin.js';
import { unsupportedProvider } from './unsupported.js';

export { BUILTIN_PROVIDERS, RUNNABLE_PROVIDERS } from './builtin.js';

export function providerRegistry(): ProviderFn {
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
      return builtinJobs(workflow, ctx);
    }
    const error = unsupportedProvider(workflow);
    if (error) throw error;
    return builtinJobs(workflow, ctx);
  };
}
