/** "Did you mean ...?" for misspelt keys; the matching itself is core's (the planner uses it too). */
import { closest } from '../core/suggest.js';

export { closest, distance } from '../core/suggest.js';

/** ` (did you mean 'x'?)`, or ` (valid keys: a, b, c)` when nothing is close. */
export function suggestion(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates);
  if (near !== undefined) return ` (did you mean '${near}'?)`;
  return ` (valid keys: ${candidates.join(', ')})`;
}
