/**
 * Providers dstack cannot plan: custom ones (`.dstack/providers.yaml`, `provider: {repo, name}`),
 * which come with a later issue, and those of later dstack versions that run interactive
 * applications rather than jobs that finish. Each gets an error that says which and why.
 */
import { ConfigError, formatLocation } from '../core/errors.js';
import type { ResolvedWorkflow } from '../core/planner.js';
import { BUILTIN_PROVIDERS } from './builtin.js';

/** Providers of later dstack versions, by name: what they were. */
const LATER: Record<string, string> = {
  code: 'VS Code in the browser',
  lab: 'JupyterLab',
  notebook: 'a Jupyter notebook',
};

const BUILTIN = `only the built-in providers run (${BUILTIN_PROVIDERS.join(', ')})`;

/** The error for a workflow whose provider is custom or of a later version; undefined when it is neither. */
export function unsupportedProvider(wf: ResolvedWorkflow): ConfigError | undefined {
  const at = wf.locations['provider'] ?? wf.location;
  const subject = `workflow '${wf.name}' uses`;
  if (wf.providerRepo !== undefined) {
    return new ConfigError(
      `${subject} provider '${wf.provider}' from ${wf.providerRepo}: custom providers from another repository ` +
        `are not supported yet: ${BUILTIN}`,
      at,
      'provider',
    );
  }
  if (wf.providerDefinition !== undefined) {
    return new ConfigError(
      `${subject} custom provider '${wf.provider}' (defined at ${formatLocation(wf.providerDefinition.location)}), ` +
        `which dstack does not support yet: ${BUILTIN}; to run it now, write its steps as 'commands' ` +
        `(with an 'image' to run them in a container)`,
      at,
      'provider',
    );
  }
  const later = LATER[wf.provider];
  if (later !== undefined) {
    return new ConfigError(
      `${subject} provider '${wf.provider}' (${later}, an interactive application of later dstack versions), ` +
        `which dstack does not support: it runs jobs that finish, and ${BUILTIN}`,
      at,
      'provider',
    );
  }
  return undefined;
}
