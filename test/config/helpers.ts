/** Shared bits of the config tests. */
import { ConfigError } from '../../src/core/errors.js';
import type { ProviderFn } from '../../src/core/planner.js';

/** The ConfigError `fn` throws; fails the test when it throws nothing or something else. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** YAML text from lines, so tests show line numbers plainly (line 1 is the first element). */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

/**
 * A workflow whose environment holds 9 levels of lists of 10 aliases of the level before: about
 * 700 bytes, a billion values once expanded. `A0:` is on line 5.
 */
export function aliasBomb(): string {
  const levels = ['    environment:', `      A0: &a0 [${Array(10).fill('x').join(', ')}]`];
  for (let i = 1; i <= 8; i++)
    levels.push(
      `      A${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return yaml('workflows:', '  - name: boom', '    commands: [echo]', ...levels);
}

/** A provider that makes each workflow one job of its fields as they are: the planner alone is tested. */
export const fieldsAsJob: ProviderFn = (wf) => [
  {
    ref: wf.name,
    provider: wf.provider,
    commands: wf.commands,
    env: wf.environment,
    variables: wf.variables,
    artifacts: wf.artifacts,
    resources: wf.resources,
    params: wf.params,
  },
];
