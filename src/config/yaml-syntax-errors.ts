/**
 * yaml's syntax errors in words a user acts on, at the character to fix: an unclosed quote or
 * bracket where it opens, a misindented line at its first character, a `${{ }}` that YAML reads
 * as a mapping. yaml's own message, where none of these applies.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { YAMLError } from 'yaml';

let parserLib: typeof Yaml.Parser | undefined;

/** yaml's CST parser (loaded only when a syntax error is worded), to find where a scalar or a collection opens. */
function parser(): Yaml.Parser {
  parserLib ??= (createRequire(import.meta.url)('yaml') as typeof Yaml).Parser;
  return new parserLib();
}

/** Where `error` (the first of a parse of `text`) is to be fixed, and what to say. */
export function syntaxError(text: string, error: YAMLError): { at: number; message: string } {
  // yaml points an indentation error at the line's first column: name its first character.
  let at = error.pos[0];
  while (text[at] === ' ') at++;
  let message = INDENTATION[error.message] ?? error.message;
  if (error.code === 'DUPLICATE_KEY') message = `duplicate key '${keyAt(text, at)}'`;
  if (error.code === 'MULTIPLE_DOCS')
    message = 'the file holds more than one YAML document (---); put everything in one';
  const open = error.code === 'MISSING_CHAR' ? unclosedQuote(text, error.pos[0]) : undefined;
  if (open !== undefined) {
    // yaml points at the end of the file, where it gave up looking for the closing quote.
    at = open;
    message = unclosedQuoteMessage(text, open);
  }
  const template = flowTemplate(text, error.pos[0]);
  if (template !== undefined) {
    at = template.at;
    message = template.message;
  }
  const bracket = error.code === 'BAD_INDENT' ? unclosedBracket(text, error.pos[0]) : undefined;
  if (bracket !== undefined) {
    // yaml points where it gave up, past the line the bracket opened on.
    at = bracket;
    message =
      text[bracket] === '['
        ? "this [ is never closed: end the list with ], or write it one item a line ('- item')"
        : 'this { is never closed: end the mapping with }, or write it one key a line';
  }
  const deeper = error.code === 'BLOCK_AS_IMPLICIT_KEY' ? deeperKey(text, error.pos[0]) : undefined;
  if (deeper !== undefined) {
    at = deeper.at;
    message =
      `this key is indented more than '${deeper.above}' above it, so YAML reads it as part of that key's ` +
      `value: start it at the column of '${deeper.above}'`;
  }
  return { at, message };
}

/** yaml's words for the usual slip, a line indented more or less than its neighbours, in plainer ones. */
const INDENTATION: Record<string, string> = {
  'All mapping items must start at the same column':
    'this key is indented differently from the keys above it (the keys of one mapping start at the same column)',
  'A block sequence may not be used as an implicit map key':
    'this list item is indented differently from the items above it',
  'Sequence item without - indicator': "this line is indented as a list's item but has no '- '",
};

/** Where the `[` or `{` that yaml gave up on at `end` opens: the last one before it that is not closed. */
function unclosedBracket(text: string, end: number): number | undefined {
  let found: number | undefined;
  const visit = (token: unknown): void => {
    if (!token || typeof token !== 'object') return;
    const t = token as { type?: string; offset?: number; start?: { source?: string }; end?: { source?: string }[] };
    const open = t.start?.source;
    if (t.type === 'flow-collection' && t.offset !== undefined && t.offset < end && (open === '[' || open === '{')) {
      const close = open === '[' ? ']' : '}';
      if (!(t.end ?? []).some((e) => e.source === close)) found = Math.max(found ?? -1, t.offset);
    }
    for (const [key, value] of Object.entries(token)) if (key !== 'source') visit(value);
  };
  for (const token of parser().parse(text)) visit(token);
  return found;
}

/**
 * `key: value` then a line indented deeper with a key of its own (`lr: 1` / `  x: 2`): yaml's
 * `Nested mappings are not allowed in compact mappings`, at the value. The deeper line's first
 * character, and the key above it; undefined when the text is not so.
 */
function deeperKey(text: string, value: number): { at: number; above: string } | undefined {
  const lineStart = text.lastIndexOf('\n', value - 1) + 1;
  const above = /^\s*(?:-\s+)?([^\s:#][^:]*?):\s/.exec(text.slice(lineStart, value + 1))?.[1];
  const next = text.indexOf('\n', value);
  if (above === undefined || next < 0) return undefined;
  let at = next + 1;
  while (text[at] === ' ') at++;
  return /^[^\s:#-][^:\n]*:(\s|$)/.test(text.slice(at)) ? { at, above } : undefined;
}

/** Where the quoted scalar that runs on to `end` (never closed) opens; undefined when none does. */
function unclosedQuote(text: string, end: number): number | undefined {
  let found: number | undefined;
  const visit = (token: unknown): void => {
    if (!token || typeof token !== 'object') return;
    const t = token as { type?: string; offset?: number; source?: string };
    if (
      (t.type === 'single-quoted-scalar' || t.type === 'double-quoted-scalar') &&
      t.offset !== undefined &&
      t.offset + (t.source?.length ?? 0) >= end
    ) {
      found = t.offset;
    }
    for (const [key, value] of Object.entries(token)) if (key !== 'source') visit(value);
  };
  for (const token of parser().parse(text)) visit(token);
  return found;
}

/** An unclosed quote, said plainly; one after a `word: ` inside a plain value most likely belongs to it. */
function unclosedQuoteMessage(text: string, open: number): string {
  const lineStart = text.lastIndexOf('\n', open) + 1;
  const before = text.slice(lineStart, open);
  const message = `this ${text[open] === '"' ? 'double' : 'single'} quote is never closed`;
  // What comes before the quote on its line, past a list's `- `, a key and a flow bracket: the value's own text.
  const value = before.replace(/^\s*(-\s+)?([\w.-]+:\s+)?[[{]?\s*/, '');
  return /\S:\s/.test(value)
    ? `${message}: the ': ' before it ends a key in YAML, so the quote began a new value; ` +
        'put the whole value in quotes (a command in double quotes, say)'
    : message;
}

/**
 * A `${{ name }}` (or `${name}`) unquoted inside `[...]` or `{...}` (`artifacts: [out/${{ sub }}]`):
 * its brace opens a mapping there, and yaml's complaint (`Missing , or : between flow sequence
 * items`) does not say why. Undefined unless the error at `brace` is such a `{`.
 */
function flowTemplate(text: string, brace: number): { at: number; message: string } | undefined {
  if (text[brace - 1] !== '$' || text[brace] !== '{') return undefined;
  const lineEnd = text.indexOf('\n', brace) < 0 ? text.length : text.indexOf('\n', brace);
  /** Past the `${...}` or `${{...}}` that opens at `at` (its `$`); undefined when it does not close on the line. */
  const past = (at: number): number | undefined => {
    const closer = text.startsWith('${{', at) ? '}}' : '}';
    const close = text.indexOf(closer, at + 2);
    return close < 0 || close >= lineEnd ? undefined : close + closer.length;
  };
  const opener = text.startsWith('{{', brace) ? '${{' : '${';
  let end = past(brace - 1);
  if (end === undefined) return undefined;
  // The item: back to the bracket or comma before it, on to the one after, over other references.
  let start = brace - 1;
  while (start > 0 && !'[{,\n'.includes(text[start - 1]!)) start--;
  while (end < lineEnd && !',]}'.includes(text[end]!))
    end = (text.startsWith('${', end) ? past(end) : undefined) ?? end + 1;
  const item = text.slice(start, end).trim();
  // In `{k: ${{ v }}}` the value is what needs the quotes, not the key.
  const key = /^[^\s'"]+:\s+/.exec(item)?.[0] ?? '';
  const value = item.slice(key.length);
  const quoted = value.includes('"') ? `'${value.replaceAll("'", "''")}'` : `"${value}"`;
  return {
    at: brace - 1,
    message:
      `'${opener}' inside [...] or {...} starts a YAML mapping there, not text: ` +
      `put the value in quotes (${key}${quoted}), or write ${key ? `the mapping one key a line (${key}${value})` : `the list one item a line (- ${value})`}`,
  };
}

/** The key written at `offset` (yaml points at its first character only). */
function keyAt(text: string, offset: number): string {
  const match = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*)/.exec(text.slice(offset));
  return (match?.[1] ?? '').trim().replace(/^["']|["']$/g, '');
}
