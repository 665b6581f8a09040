/** The provider registry the planner calls: built-ins today, custom providers later. */
import type { ProviderFn } from '../core/planner.js';
import { builtinJobs } from './builtin.js';

export { BUILTIN_PROVIDERS, RUNNABLE_PROVIDERS } from './builtin.js';

export function providerRegistry(): ProviderFn {
  return (workflow) => builtinJobs(workflow);
}
