/**
 * A secret given by flag: `-` reads it from stdin (`echo "$T" | dstack … --token -`), so that it
 * stays out of `ps` and shell history. `dstack init --token/--passphrase`, `dstack config --token`.
 */
import { text } from 'node:stream/consumers';
import { UsageError } from '../core/errors.js';

/** The flag's value, or stdin's (trimmed) for `-`; an empty one is a UsageError naming the flag. */
export async function secretFlag(flag: string, value: string): Promise<string> {
  const v = value === '-' ? (await text(process.stdin)).trim() : value;
  if (v === '') throw new UsageError(`${flag} is empty${value === '-' ? ' (nothing came on stdin)' : ''}`);
  return v;
}
