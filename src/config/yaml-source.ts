/**
 * A parsed YAML file that remembers where everything was written: every value can be
 * turned back into `file:line:column`, and scalars are read as the user typed them.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Alias, Document, LineCounter, Node, Pair, ParsedNode, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { ConfigError, type SourceLocation } from '../core/errors.js';
import { suggestion } from './suggest.js';
import { syntaxError } from './yaml-syntax-errors.js';

let yamlLib: typeof Yaml | undefined;

/**
 * The `yaml` library, loaded on first use: it costs a CLI call about 60 ms, and the usual
 * file is read by js-yaml alone (fast-yaml.ts) until a location is needed.
 */
function yaml(): typeof Yaml {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlLib;
}

export const isScalar = (node: unknown): node is Scalar => yaml().isScalar(node);
export const isSeq = (node: unknown): node is YAMLSeq => yaml().isSeq(node);
export const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
const isAlias = (node: unknown): node is Alias => yaml().isAlias(node);

/** A path into a document: mapping keys and list indexes. */
export type Path = readonly (string | number)[];

/** A plain value as read from YAML: every scalar is its source text, an empty value is null. */
export type Plain = string | null | Plain[] | { [key: string]: Plain };

export interface YamlSource {
  /** Project-relative file name used in locations (`.dstack/workflows.yaml`). */
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Where a path leads: the value node, and the key it sits under when it is a mapping value. */
export interface Found {
  node: Node | null;
  key?: Node;
  /** False when the path stopped early; `node` is then the deepest container reached. */
  complete: boolean;
}

/**
 * Parse one YAML file, throwing a ConfigError at the first syntax error.
 *
 * The YAML 1.2 core schema is used on purpose: YAML 1.1 (PyYAML's) would read keys such as
 * `n`, `y`, `on` and `off` as booleans. What 1.1 got right for users (`python: 3.10` is not
 * 3.1, `2e-5` stays `2e-5`) comes from reading scalars as their source text instead.
 */
export function parseYaml(text: string, file: string): YamlSource {
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    keepSourceTokens: true,
    // Compare keys as written, so that `1` and `1.0` are two different variables.
    uniqueKeys: (a, b) => keyText(a) === keyText(b),
  });
  const src: YamlSource = { file, doc, lines };
  const error = doc.errors[0];
  if (error) {
    const { at, message } = syntaxError(text, error);
    throw new ConfigError(message, offsetLocation(src, at));
  }
  return src;
}

export function offsetLocation(src: YamlSource, offset: number): SourceLocation {
  const { line, col } = src.lines.linePos(offset);
  return { file: src.file, line, column: col };
}

export function nodeLocation(src: YamlSource, node: Node): SourceLocation {
  return offsetLocation(src, node.range?.[0] ?? 0);
}

/** The text of a scalar as written (`3.10`, `0.0`, `yes`); null for an empty value, `~` or `null`. */
export function scalarText(node: Scalar): string | null {
  if (typeof node.value === 'string') return node.value;
  if (node.value === null || node.value === undefined) return null;
  const token = node.srcToken;
  if (token && 'source' in token) return token.source;
  return String(node.value);
}

/** A mapping key's text; keys must be single values. */
function keyText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  return scalarText(node) ?? '';
}

/** Follow an alias (`*name`) to the node it stands for. */
export function resolveAlias(src: YamlSource, node: Node): Node {
  if (!isAlias(node)) return node;
  const target = node.resolve(src.doc);
  if (!target) throw new ConfigError(`unknown alias '*${node.source}'`, nodeLocation(src, node));
  return target;
}

/**
 * Values that aliases may stand for in one toPlain, all together. An alias names a value once
 * in the document but its plain data is a copy: a few lines of aliases within aliased lists
 * expand to billions of values (seconds of CPU and gigabytes before any check could run).
 */
export const MAX_ALIASED_VALUES = 100_000;

/** The value at `path` as plain data (see Plain), for schema validation. */
export function toPlain(src: YamlSource, node: Node | null): Plain {
  return plainOf(src, node, 0, { aliased: 0 }, undefined);
}

/** `via`: the outermost alias `node` is reached through, which a value too many is blamed on. */
function plainOf(src: YamlSource, node: Node | null, depth: number, count: { aliased: number }, via?: Alias): Plain {
  // An alias to its own ancestor would otherwise recurse forever.
  if (depth > 100)
    throw new ConfigError('the YAML nests too deeply (a recursive alias?)', node ? nodeLocation(src, node) : undefined);
  if (node === null) return null;
  via ??= isAlias(node) ? node : undefined;
  if (via && ++count.aliased > MAX_ALIASED_VALUES) {
    throw new ConfigError(
      `alias '*${via.source}' expands to more than ${MAX_ALIASED_VALUES.toLocaleString('en')} values ` +
        '(aliases within the value an alias names multiply it)',
      nodeLocation(src, via),
    );
  }
  const value = resolveAlias(src, node);
  if (isScalar(value)) return scalarText(value);
  if (isSeq(value)) return value.items.map((item) => plainOf(src, item as Node | null, depth + 1, count, via));
  if (isMap(value)) {
    const own = new Set<string>();
    for (const pair of value.items) {
      const key = keyText(pair.key);
      if (key === undefined) {
        const at = isNode(pair.key) ? nodeLocation(src, pair.key) : nodeLocation(src, value);
        throw new ConfigError('a mapping key must be a single value, not a list or mapping', at);
      }
      if (!isMergeKey(pair.key)) own.add(key);
    }
    const entries = new Map<string, Plain>();
    for (const pair of value.items) {
      if (!isMergeKey(pair.key)) {
        entries.set(keyText(pair.key)!, plainOf(src, pair.value as Node | null, depth + 1, count, via));
        continue;
      }
      // `<<: *base`: the keys of base this mapping does not set itself; of several, the first's win.
      for (const source of mergeSources(src, pair.value as Node | null)) {
        const merged = plainOf(src, source, depth + 1, count, via) as Record<string, Plain>;
        for (const [key, item] of Object.entries(merged))
          if (!own.has(key) && !entries.has(key)) entries.set(key, item);
      }
    }
    return Object.fromEntries(entries);
  }
  return null;
}

/**
 * `<<` as a plain key: YAML's merge key (`<<: *base`), which PyYAML, and so the dstack of
 * 2021–2022, reads; dstack reads YAML 1.2 otherwise, where it is no more than a key, and a
 * workflow that merged its defaults was refused with `unknown key '<<'`. `'<<'` quoted is a key.
 */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.type === 'PLAIN' && key.value === '<<';
}

/** The mappings a merge key names: a mapping, or a list of them, each written there or by an alias. */
function mergeSources(src: YamlSource, node: Node | null): Node[] {
  const value = node === null ? null : resolveAlias(src, node);
  const items = isSeq(value) ? (value.items as (Node | null)[]) : [node];
  return items.map((item) => {
    if (item !== null && isMap(resolveAlias(src, item))) return item;
    const at = node !== null && isAlias(node) ? node : (item ?? node); // `<<: *a`: the alias, not what it names
    throw new ConfigError(
      "'<<' merges a mapping into this one: give it an alias of a mapping (<<: *base), or a list of them",
      at ? nodeLocation(src, at) : undefined,
    );
  });
}

function isNode(value: unknown): value is ParsedNode {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

/** Walk `path` from `start` (the document root by default). */
export function find(src: YamlSource, path: Path, start: Node | null = src.doc.contents): Found {
  let found: Found = { node: start, complete: true };
  for (const segment of path) {
    const here = found.node === null ? null : resolveAlias(src, found.node);
    let next: Found | undefined;
    if (isMap(here) && typeof segment === 'string') {
      const pair = findPair(src, here, segment, 0);
      if (pair) next = { node: (pair.value as Node | null) ?? null, key: pair.key as Node, complete: true };
    } else if (isSeq(here) && typeof segment === 'number') {
      const item = here.items[segment] as Node | null | undefined;
      if (item !== undefined) next = { node: item, complete: true };
    }
    if (!next) return { ...found, complete: false };
    found = next;
  }
  return found;
}

/** The entry of `map` for `key`: its own, or the one a merge key brings (where the value was written). */
function findPair(src: YamlSource, map: YAMLMap, key: string, depth: number): Pair | undefined {
  const own = map.items.find((p) => !isMergeKey(p.key) && keyText(p.key) === key);
  if (own || depth > 100) return own;
  for (const pair of map.items) {
    if (!isMergeKey(pair.key) || pair.value === null) continue;
    const value = resolveAlias(src, pair.value as Node);
    for (const item of isSeq(value) ? (value.items as (Node | null)[]) : [value]) {
      const source = item === null ? null : resolveAlias(src, item);
      const found = isMap(source) ? findPair(src, source, key, depth + 1) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Where the value at `path` was written: the value itself when it is a single value, the
 * key when it is a list, a mapping or empty (a block list starts on the next line), and
 * the deepest container reached when the path does not exist.
 */
export function locate(src: YamlSource, path: Path, start?: Node | null): SourceLocation {
  const found = find(src, path, start);
  const { node, key } = found;
  if (!found.complete) return node ? nodeLocation(src, node) : offsetLocation(src, 0);
  const single = node !== null && isScalar(node) && scalarText(node) !== null;
  if (single || !key) return node ? nodeLocation(src, node) : offsetLocation(src, 0);
  return nodeLocation(src, key);
}

/** Where the key of the entry at `path` was written (for "unknown key" errors). */
export function locateKey(src: YamlSource, path: Path, start?: Node | null): SourceLocation {
  const found = find(src, path, start);
  if (found.complete && found.key) return nodeLocation(src, found.key);
  return locate(src, path, start);
}

/** How a value looks, for "must be X, not Y" messages. */
export function describe(src: YamlSource, path: Path, start?: Node | null): string {
  const { node, complete } = find(src, path, start);
  if (!complete) return 'missing';
  if (node === null) return 'empty';
  const value = resolveAlias(src, node);
  if (isMap(value)) return 'a mapping';
  if (isSeq(value)) return 'a list';
  if (isScalar(value)) {
    const text = scalarText(value);
    if (text === null) return 'empty';
    return `a single value ('${text.length > 40 ? `${text.slice(0, 37)}...` : text}')`;
  }
  return 'something else';
}

/** Check that the document's `root` is a mapping whose one key is `key` (`workflows:`), else throw. */
export function expectTopLevel(src: YamlSource, root: Node, key: string): asserts root is YAMLMap {
  if (!isMap(root)) {
    throw new ConfigError(
      `the file must be a mapping with '${key}:' at the top, not ${describe(src, [])}`,
      locate(src, []),
    );
  }
  for (const pair of root.items) {
    const found = isScalar(pair.key) ? scalarText(pair.key) : null;
    if (found !== key) {
      throw new ConfigError(
        `unknown top-level key '${found ?? ''}'${suggestion(found ?? '', [key])}`,
        nodeLocation(src, pair.key as Node),
        found ?? undefined,
      );
    }
  }
}
