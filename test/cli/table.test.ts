import Table from 'cli-table3';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { styled, table, type Cell } from '../../src/cli/table.js';

/** What table() printed when it was cli-table3 alone: the look to keep. */
function reference(head: string[], rows: string[][]): string {
  const none = ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right'];
  const sides = ['left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid'];
  const chars = Object.fromEntries([...none, ...sides].map((k) => [k, '']));
  const t = new Table({
    head,
    chars: { ...chars, middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows);
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

const colors = pc.createColors(true);

const cases: [string, string[], Cell[][]][] = [
  ['plain cells', ['JOB', 'WORKFLOW', 'STATUS', 'REASON'], [['a1b2', 'train', 'DONE', '']]],
  [
    'coloured statuses',
    ['JOB', 'WORKFLOW', 'STATUS', 'REASON'],
    [
      ['a1b2', 'prepare', styled(colors.green('DONE')), ''],
      ['c3d4', 'train-a-much-longer-name', styled(colors.red('FAILED')), 'exit code 1'],
      ['e5', 'x', styled(colors.cyan('SUBMITTED'), ' waiting'), 'dependency failed: prepare (a1b2)'],
    ],
  ],
  ['no rows', ['RUN', 'TAG'], []],
  [
    'empty cells and an empty last column',
    ['A', 'B', 'C'],
    [
      ['', 'x', ''],
      ['long value', '', ''],
    ],
  ],
  [
    'a wide character',
    ['NAME', 'NOTE'],
    [
      ['模型', 'ok'],
      ['ab', 'done'],
    ],
  ],
  [
    'a line break in a styled cell',
    ['NAME', 'NOTE'],
    [
      ['a', styled('two\nlines')],
      ['bb', 'c'],
    ],
  ],
];

/** The cells as cli-table3 was given them: a styled cell's text. */
const texts = (rows: Cell[][]) => rows.map((row) => row.map((c) => (typeof c === 'string' ? c : c.text)));

describe('table', () => {
  it.each(cases)('lays out %s exactly as cli-table3 did', (_, head, rows) => {
    expect(table(head, rows)).toBe(reference(head, texts(rows)));
  });

  it("shows a cell's control characters escaped: no colour, no split row, no tab; unicode kept", () => {
    const rows = [
      ['o', 'o/\x1b[31mred.txt', '1B'],
      ['o', 'o/new\nline.txt', '1B'],
      ['o', 'o/tab\there.txt', '1B'],
      ['o', 'o/café-模型-😀.txt', '1B'],
    ];
    const out = table(['ARTIFACT', 'FILE', 'SIZE'], rows);
    const lines = out.split('\n');
    expect(lines).toHaveLength(5);
    // eslint-disable-next-line no-control-regex
    for (const line of lines) expect(line).not.toMatch(/[\x00-\x1f]/);
    expect(out).toContain('o/\\x1b[31mred.txt');
    expect(out).toContain('o/new\\nline.txt');
    expect(out).toContain('o/tab\\there.txt');
    expect(out).toContain('o/café-模型-😀.txt');
    // Every SIZE ends in one column: the escapes count as what they show (模型 takes 4 columns, 😀 2).
    const ends = lines.slice(1).map((line) => line.length + (line.includes('模型') ? 2 : 0));
    expect(new Set(ends).size).toBe(1);
  });

  it('keeps the colour of a styled cell and escapes the plain text after it', () => {
    const cell = styled(colors.red('FAILED'), ' artifact \x1b[2J');
    const out = table(['STATUS'], [[cell]]);
    expect(out).toContain(`${colors.red('FAILED')} artifact \\x1b[2J`);
  });

  it('lays out a 1,000-row run summary as cli-table3 did', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`job${i}`, `w${i % 37}`, styled(colors.green('DONE')), '']);
    expect(table(['JOB', 'WORKFLOW', 'STATUS', 'REASON'], rows)).toBe(
      reference(['JOB', 'WORKFLOW', 'STATUS', 'REASON'], texts(rows)),
    );
  });
});
