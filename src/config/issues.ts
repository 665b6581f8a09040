/**
 * Validation with zod, reported in YAML terms: a zod issue's path is walked back to the
 * YAML node it came from, so the error names `file:line:column` and the field.
 */
import type { z } from 'zod';
import { ConfigError, type SourceLocation } from '../core/errors.js';
import { suggestion } from './suggest.js';
import {
  describe,
  find,
  isMap,
  isScalar,
  locate,
  locateKey,
  scalarText,
  type Path,
  type YamlSource,
} from './yaml-source.js';
import { zod } from './zod-lib.js';

type Issue = z.core.$ZodIssue;

export interface IssueContext {
  src: YamlSource;
  /** Path from the document root to the value being validated. */
  base: Path;
  /** Names the value at a path relative to `base`: `workflow 'train'`, `'commands.1' of workflow 'train'`. */
  subject(path: Path): string;
  /** The `field` an error records for a path relative to `base`; the dotted path by default. */
  field?(path: Path): string | undefined;
}

/** Phrases for zod's `expected` when a schema gives no message of its own. */
const EXPECTED: Record<string, string> = {
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/**
 * Validate `value` (plain data read from the YAML at `ctx.base`) against `schema`.
 * Throws a ConfigError for the issue written first in the file.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, ctx: IssueContext): z.output<S> {
  const result = schema.safeParse(value, {
    error: (iss) => (iss.code === 'invalid_type' ? EXPECTED[iss.expected] : undefined),
  });
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => flatten(issue, []));
  const placed = issues.map((issue) => ({ issue, location: issueLocation(issue, ctx) }));
  // At one place, an unknown key first: `- pth: out` lacks `path` because of it.
  const unknownFirst = (p: { issue: Issue }) => (p.issue.code === 'unrecognized_keys' ? 0 : 1);
  placed.sort(
    (a, b) =>
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      (a.location.column ?? 0) - (b.location.column ?? 0) ||
      unknownFirst(a) - unknownFirst(b),
  );
  const first = placed[0]!;
  return fail(first.issue, first.location, schema, ctx);
}

/**
 * A union that failed on every branch reports its own message ("a number or a mapping"),
 * unless the value had the right kind for one branch: then that branch's issues say more
 * (`unknown key 'cont' in 'resources.gpu'` rather than "expected a number or a mapping").
 */
function flatten(issue: Issue, prefix: Path): Issue[] {
  const path = [...prefix, ...(issue.path as (string | number)[])];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ ...issue, path }];
  const rightKind = issue.errors.find(
    (branch) => !(branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0),
  );
  if (!rightKind) return [{ ...issue, path }];
  return rightKind.flatMap((inner) => flatten(inner, path));
}

function issueLocation(issue: Issue, ctx: IssueContext): SourceLocation {
  const path = [...ctx.base, ...(issue.path as Path)];
  if (issue.code === 'unrecognized_keys') return locateKey(ctx.src, [...path, issue.keys[0]!]);
  return locate(ctx.src, path);
}

function fail(issue: Issue, location: SourceLocation, schema: z.ZodType, ctx: IssueContext): never {
  const path = issue.path as Path;
  const field = (p: Path) => (ctx.field ? ctx.field(p) : p.join('.') || undefined);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const detail = `unknown key '${key}' in ${ctx.subject(path)}${suggestion(key, keysAt(schema, path))}`;
    throw new ConfigError(detail, location, field([...path, key]));
  }
  const seen = describe(ctx.src, [...ctx.base, ...path]);
  if (seen === 'missing' && path.length > 0) {
    const detail = `${ctx.subject(path.slice(0, -1))} has no '${String(path[path.length - 1])}'`;
    throw new ConfigError(detail, location, field(path));
  }
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    const detail =
      seen === 'empty'
        ? `${ctx.subject(path)} is empty: expected ${issue.message}`
        : `${ctx.subject(path)} must be ${issue.message}, not ${seen}${colonHint(ctx.src, [...ctx.base, ...path], issue)}`;
    throw new ConfigError(detail, location, field(path));
  }
  throw new ConfigError(`${ctx.subject(path)}: ${issue.message}`, location, field(path));
}

/**
 * A list's item written with an unquoted `: ` in it (`- echo "a: b"`, `- python3 x.py --out: y`)
 * is read by YAML as a one-pair mapping: say so, with the item quoted as it should be.
 */
function colonHint(src: YamlSource, path: Path, issue: Issue): string {
  // Only a list's item: `key: a: b` is a YAML syntax error, and a value on lines of its own
  // (`opt:` then `  name: adam`) is a mapping meant as one.
  if (issue.code !== 'invalid_type' || issue.expected !== 'string' || typeof path[path.length - 1] !== 'number')
    return '';
  const { node, complete } = find(src, path);
  if (!complete || !isMap(node) || node.flow || node.items.length !== 1) return '';
  const pair = node.items[0]!;
  if (!isScalar(pair.key) || pair.key.type !== 'PLAIN') return '';
  if (pair.value !== null && (!isScalar(pair.value) || pair.value.type !== 'PLAIN')) return '';
  const key = scalarText(pair.key) ?? '';
  const value = pair.value === null ? null : scalarText(pair.value);
  const text = value === null ? `${key}:` : `${key}: ${value}`;
  return `: YAML reads an unquoted ': ' as a mapping's key and value; put the whole text in quotes ('${text.replaceAll("'", "''")}')`;
}

/** The keys a mapping schema at `path` accepts, for "did you mean" suggestions. */
export function keysAt(schema: z.ZodType, path: Path): string[] {
  const z = zod();
  let current: z.ZodType[] = [schema];
  for (const segment of [...path, undefined]) {
    current = current.flatMap(unwrap);
    if (segment === undefined) break;
    current = current.flatMap((s): z.ZodType[] => {
      if (typeof segment === 'number') return s instanceof z.ZodArray ? [s.element as z.ZodType] : [];
      if (s instanceof z.ZodObject) return s.shape[segment] ? [s.shape[segment] as z.ZodType] : [];
      if (s instanceof z.ZodRecord) return [s._zod.def.valueType as z.ZodType];
      return [];
    });
  }
  return current.flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : []));
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  const z = zod();
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(unwrap);
  return [schema];
}
