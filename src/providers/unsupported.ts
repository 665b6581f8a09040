/**
 * Providers of later dstack versions that run interactive applications rather than jobs
 * that finish: each gets an error that says what it was and why dstack does not run it.
 */
import { ConfigError } from '../core/errors.js';
import type { ResolvedWorkflow } from '../core/planner.js';

/** Providers of later dstack versions, by name: what they were. */
const LATER: Record<string, string> = {
  code: 'VS Code in the browser',
  lab: 'JupyterLab',
  notebook: 'a Jupyter notebook',
};

/** The error for a workflow whose provider is one of those; undefined otherwise. */
export function unsupportedProvider(wf: ResolvedWorkflow): ConfigError | undefined {
  const later = LATER[wf.provider];
  if (later === undefined || wf.providerRepo !== undefined || wf.providerDefinition !== undefined) return undefined;
  return new ConfigError(
    `workflow '${wf.name}' uses provider '${wf.provider}' (${later}, an interactive application of later dstack ` +
      `versions), which dstack does not support: it runs jobs that finish`,
    wf.locations['provider'] ?? wf.location,
    'provider',
  );
}
