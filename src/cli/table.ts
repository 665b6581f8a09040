/**
 * Tables like the reference docs': no borders, columns two spaces apart, no trailing spaces.
 *
 * Cells are plain text and shown printable (core/printable.ts): a file name, a reason or a
 * workflow name with an escape sequence, a line break or a tab would recolour the terminal,
 * split a row or misalign a column. Colour is asked for with `styled` (a status), the only
 * way codes reach the terminal: a table cannot tell a name's `ESC[31m` from picocolors'.
 *
 * cli-table3 measures every cell with string-width and ansi-regex, which made a 1,000-row run
 * summary cost a quarter of a second. Cells of printable ASCII, coloured or not (what dstack
 * prints: ids, names, statuses), are laid out here in one linear pass; anything else (wide
 * characters, line breaks, tabs) still goes through cli-table3, loaded only then.
 */
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';
import { printable } from '../core/printable.js';

/** SGR colour sequences, as picocolors writes them (ESC, the one control character allowed here). */
// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;
const PRINTABLE = /^[\x20-\x7e]*$/;

/** A cell of dstack's colour codes around printable text, laid out as it is (`styled`). */
export class Styled {
  constructor(readonly text: string) {}
}

/** `painted` (dstack's own words in colour: `pc.green('DONE')`) followed by `plain`, which is made printable. */
export function styled(painted: string, plain = ''): Styled {
  return new Styled(painted + printable(plain));
}

/** Plain text (made printable), or a styled cell. */
export type Cell = string | Styled;

export function table(head: readonly Cell[], rows: readonly (readonly Cell[])[]): string {
  const shown = (row: readonly Cell[]) => row.map((cell) => (typeof cell === 'string' ? printable(cell) : cell.text));
  return layout(shown(head), rows.map(shown));
}

function layout(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths: number[] = [];
  for (const row of all) {
    for (let i = 0; i < row.length; i++) {
      const width = plainWidth(row[i]!);
      if (width === undefined) return slowTable(head, rows);
      if (width > (widths[i] ?? 0)) widths[i] = width;
    }
  }
  const columns = head.length;
  const lines: string[] = [];
  for (const row of all) {
    let line = '';
    for (let i = 0; i < columns; i++) {
      const cell = row[i] ?? '';
      const pad = (widths[i] ?? 0) - (plainWidth(cell) ?? 0);
      line += (i === 0 ? '' : '  ') + cell + ' '.repeat(pad);
    }
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

/** The columns a cell takes when it is printable ASCII with colour codes; undefined otherwise. */
function plainWidth(cell: string): number | undefined {
  const visible = cell.includes('\x1b') ? cell.replace(SGR, '') : cell;
  return PRINTABLE.test(visible) ? visible.length : undefined;
}

/** The general case, by cli-table3 (CommonJS, so it can be required on demand). */
function slowTable(head: string[], rows: string[][]): string {
  const Table = createRequire(import.meta.url)('cli-table3') as typeof TableType;
  const blank = { top: '', 'top-mid': '', 'top-left': '', 'top-right': '' };
  const t = new Table({
    head,
    chars: {
      ...blank,
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows);
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
