import Table from 'cli-table3';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/table.js';

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

const cases: [string, string[], string[][]][] = [
  ['plain cells', ['JOB', 'WORKFLOW', 'STATUS', 'REASON'], [['a1b2', 'train', 'DONE', '']]],
  [
    'coloured statuses',
    ['JOB', 'WORKFLOW', 'STATUS', 'REASON'],
    [
      ['a1b2', 'prepare', colors.green('DONE'), ''],
      ['c3d4', 'train-a-much-longer-name', colors.red('FAILED'), 'exit code 1'],
      ['e5', 'x', colors.cyan('SUBMITTED') + ' waiting', 'dependency failed: prepare (a1b2)'],
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
    'a line break in a cell',
    ['NAME', 'NOTE'],
    [
      ['a', 'two\nlines'],
      ['bb', 'c'],
    ],
  ],
];

describe('table', () => {
  it.each(cases)('lays out %s exactly as cli-table3 did', (_, head, rows) => {
    expect(table(head, rows)).toBe(reference(head, rows));
  });

  it('lays out a 1,000-row run summary as cli-table3 did', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`job${i}`, `w${i % 37}`, colors.green('DONE'), '']);
    expect(table(['JOB', 'WORKFLOW', 'STATUS', 'REASON'], rows)).toBe(
      reference(['JOB', 'WORKFLOW', 'STATUS', 'REASON'], rows),
    );
  });
});
