/**
 * A shortcut past zod for the common workflow item: a mapping of a name, a provider name,
 * an image, help, and lists of strings for commands and dependencies. Such an item is valid
 * under workflowSchema and zod would return a copy of it, so it is returned as it is. Any
 * other item (other keys, other shapes) gets undefined and goes through zod, which then
 * also words the error. On 10,000 workflows zod took about a tenth of a second.
 */
import type { RawWorkflow } from './workflow-schema.js';
import type { Plain } from './yaml-source.js';

const STRINGS = new Set(['name', 'provider', 'image', 'help']);
const LISTS = new Set(['commands', 'depends-on', 'deps']);

export function simpleWorkflow(plain: Plain): RawWorkflow | undefined {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return undefined;
  if (typeof plain['name'] !== 'string') return undefined;
  for (const key in plain) {
    const value = plain[key];
    if (STRINGS.has(key)) {
      if (typeof value !== 'string') return undefined;
    } else if (LISTS.has(key)) {
      if (!Array.isArray(value)) return undefined;
      for (const item of value) if (typeof item !== 'string') return undefined;
    } else return undefined;
  }
  return plain as RawWorkflow;
}
