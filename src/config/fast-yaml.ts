/**
 * A fast first read of a YAML file as plain data (every scalar its source text, an empty
 * value null: yaml-source.ts's rule), by js-yaml with its failsafe schema plus null.
 *
 * The `yaml` library's parse keeps a CST and composed nodes so that any value can be traced
 * back to `file:line:column`; on 10,000 workflows that is about a second, where js-yaml
 * takes a tenth of it. Locations are then computed from a full `yaml` parse only when an
 * error or warning needs one (source-handle.ts). The fast read declines (undefined) whatever
 * it might read differently from `yaml`, so that the full parse decides: syntax js-yaml
 * rejects, keys that are not single values, null keys, directives, nesting past
 * yaml-source.ts's limit, and aliases that expand to more than it allows.
 */
import { createRequire } from 'node:module';
import { MAX_ALIASED_VALUES, type Plain } from './yaml-source.js';

/**
 * Names this reader for plain-cache.ts: entries read by another are not used. Change it with
 * anything that changes what readPlainFast returns; the js-yaml version is checked by a test.
 */
export const FAST_READER = 'js-yaml 4.3.2, failsafe schema + null, fast-yaml 2';

/** A file's text to plain data, or undefined where the full parse must decide: readPlainFast, maybe cached. */
export type PlainReader = (text: string) => Plain | undefined;

/**
 * js-yaml and its schema: strings, lists and mappings, and null. Loaded on the first read, by
 * `require` so that reads stay synchronous: a `dstack run` whose config comes from
 * plain-cache.ts's kept reads never loads it (about 5 ms of each call).
 */
let jsYaml: { load: typeof import('js-yaml').load; schema: import('js-yaml').Schema } | undefined;

function loadJsYaml(): NonNullable<typeof jsYaml> {
  const { FAILSAFE_SCHEMA, Type, load } = createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml');
  /** An empty plain value, `~`, `null`, `Null` or `NULL` is null: YAML 1.2's core schema, as yaml reads it. */
  const NULL = new Type('tag:yaml.org,2002:null', {
    kind: 'scalar',
    // Asked of every plain scalar: lengths first, as js-yaml's own null type does (a regex here cost a third of the read).
    resolve: (data: string | null) =>
      data === null ||
      data.length === 0 ||
      (data.length === 1 && data === '~') ||
      (data.length === 4 && (data === 'null' || data === 'Null' || data === 'NULL')),
    construct: () => null,
  });
  return { load, schema: FAILSAFE_SCHEMA.extend({ implicit: [NULL] }) };
}

/**
 * Complex keys, which js-yaml turns into strings where yaml-source.ts refuses them: an
 * explicit `? key`, or a flow list or mapping used as a key (`[a, b]: x`). Over-broad on
 * purpose (a command with `]: ` in it): a false match only costs the full parse.
 */
const COMPLEX_KEY = /^[\s-]*\?(\s|$)|[{,[]\s*\?\s|[\]}]\s*:(\s|$)/m;

/** yaml-source.ts's toPlain stops at this depth (a recursive alias); the full parse then says so. */
const MAX_DEPTH = 100;

/** A directive (`%YAML 1.1` turns on merge keys in yaml, which js-yaml's failsafe schema lacks). */
const DIRECTIVE = /^%/m;

/** A merge key (`<<: *base`), which yaml-source.ts merges and js-yaml's failsafe schema keeps as a key; a heredoc (`<<EOF`) is none. */
const MERGE_KEY = /<<\s*:(\s|$)/;

export function readPlainFast(text: string): Plain | undefined {
  if (COMPLEX_KEY.test(text) || DIRECTIVE.test(text) || MERGE_KEY.test(text)) return undefined;
  let data: unknown;
  try {
    jsYaml ??= loadJsYaml();
    data = jsYaml.load(text, { schema: jsYaml.schema });
  } catch {
    return undefined;
  }
  // js-yaml shares an aliased value, but every walk of it (this one, the checks, the cache's
  // JSON) copies it: past a value a character of the text, plus what aliases may add, the full
  // parse decides (and names the alias).
  return checked(data, 0, { left: text.length + MAX_ALIASED_VALUES }) ? (data as Plain) : undefined;
}

/** Whether `value` is plain data that the full parse would have read the same way, in `budget.left` values. */
function checked(value: unknown, depth: number, budget: { left: number }): boolean {
  if (--budget.left < 0) return false;
  if (value === null || typeof value === 'string') return true;
  if (depth > MAX_DEPTH || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!checked(item, depth + 1, budget)) return false;
    return true;
  }
  for (const key in value) {
    // A null key (`~: x`) is 'null' to js-yaml but '' to yaml-source.ts.
    if (key === 'null' || !checked((value as Record<string, unknown>)[key], depth + 1, budget)) return false;
  }
  return true;
}
