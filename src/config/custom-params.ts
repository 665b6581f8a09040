/**
 * A workflow of a custom provider may carry any parameters of that provider's own contract
 * (`shards: 3`): keys dstack does not know are passed to the provider rather than refused.
 * Built-in providers keep strict checking, with its "did you mean".
 */
import type { Plain } from './yaml-source.js';

const BUILTIN = new Set(['bash', 'docker', 'python', 'curl']);

/** Whether the item names a custom provider: `provider: NAME` not built in, or `provider: {repo, name}`. */
function isCustom(provider: unknown): boolean {
  if (provider !== null && typeof provider === 'object') return true;
  if (typeof provider !== 'string') return false;
  return !BUILTIN.has(provider.trim().replace(/==.*$/, ''));
}

/** The item without the keys `known` lacks, and those keys apart; nothing apart unless the provider is custom. */
export function splitCustomParams(
  plain: Plain,
  known: ReadonlySet<string>,
): { plain: Plain; extra: Record<string, unknown> } {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain) || !isCustom(plain.provider)) {
    return { plain, extra: {} };
  }
  const kept: Record<string, Plain> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(plain)) {
    if (known.has(key)) kept[key] = value;
    else extra[key] = value;
  }
  return { plain: kept as Plain, extra };
}
