/** Log lines as the terminal showed them: colours, carriage returns, erased lines; and search marks. */
import { describe, expect, it } from 'vitest';
import { parseAnsi, plainText, TermLine } from '../../web/src/lib/ansi.js';
import { markMatches } from '../../web/src/lib/log-search.js';

const ESC = '\u001b';

describe('parseAnsi', () => {
  it('keeps plain text as one unstyled segment', () => {
    expect(parseAnsi('epoch 1 loss=0.5')).toEqual([{ text: 'epoch 1 loss=0.5', style: {} }]);
  });

  it('colours text with the basic, 256-colour and true-colour codes, and resets', () => {
    const segments = parseAnsi(`${ESC}[1;31mred${ESC}[0m plain ${ESC}[38;5;46mg${ESC}[38;2;1;2;3mt${ESC}[39m.`);
    expect(segments.map((s) => [s.text, s.style])).toEqual([
      ['red', { bold: true, fg: '#ef6b73' }],
      [' plain ', {}],
      ['g', { fg: 'rgb(0,255,0)' }],
      ['t', { fg: 'rgb(1,2,3)' }],
      ['.', {}],
    ]);
  });

  it('shows what a progress bar ended on: \\r goes back to the start of the line and overwrites', () => {
    expect(plainText('downloading  10%\rdownloading 100%')).toBe('downloading 100%');
    expect(plainText('abcdef\rXY')).toBe('XYcdef');
    expect(plainText('50%\r')).toBe('50%');
  });

  it('erases the rest of the line with ESC[K and the whole line with ESC[2K', () => {
    expect(plainText(`long text here\rshort${ESC}[K`)).toBe('short');
    expect(plainText(`old${ESC}[2K\rnew`)).toBe('new');
  });

  it('drops cursor movements, OSC titles and links it has no use for, and cut-off sequences', () => {
    expect(plainText(`${ESC}]0;title\u0007a${ESC}[?25lb${ESC}[2Ac`)).toBe('abc');
    expect(plainText(`${ESC}]8;;http://x${ESC}\\link${ESC}]8;;${ESC}\\`)).toBe('link');
    expect(plainText(`done${ESC}[3`)).toBe('done');
  });

  it('expands tabs to the next multiple of 8 and applies backspace', () => {
    expect(plainText('a\tb')).toBe('a       b');
    expect(plainText('ab\bc')).toBe('ac');
  });
});

describe('TermLine fed in pieces', () => {
  const red = { fg: '#ef6b73' };
  it('draws a line written at its end, then over itself, as if it came in one piece', () => {
    const pieces = ['ab', `${ESC}[31mcd`, `${ESC}[2DZ`, `${ESC}[0m\tx`, '\rQ', `${ESC}[5G!${ESC}[K`];
    const line = new TermLine();
    for (const piece of pieces) line.feed(piece);
    expect(line.segments()).toEqual(parseAnsi(pieces.join('')));
    // `d` is under the tab's spaces; `Q` was written after the reset, a style of its own.
    expect(line.segments()).toEqual([
      { text: 'Q', style: {} },
      { text: 'b', style: {} },
      { text: 'Z', style: red },
      { text: ' !', style: {} },
    ]);
  });

  it('keeps a 200 KB line written at its end as its runs: each piece costs its own length', () => {
    const line = new TermLine();
    const started = performance.now();
    for (let i = 0; i < 100; i++) line.feed(`${ESC}[3${i % 2}m${'w'.repeat(200_000)}`); // 20 MB in 100 pieces
    expect(performance.now() - started).toBeLessThan(1000);
    expect(line.width).toBe(100 * 200_000);
    expect(line.segments()).toHaveLength(100);
  });
});

describe('markMatches', () => {
  it('marks every match, case-insensitively, splitting styled segments without losing their style', () => {
    const marked = markMatches(parseAnsi(`loss ${ESC}[32mLOSS${ESC}[0m loss`), 'oss l');
    expect(marked.map((s) => [s.text, s.mark, s.style.fg ?? ''])).toEqual([
      ['l', false, ''],
      ['oss ', true, ''],
      ['L', true, '#8fd17a'],
      ['OSS', true, '#8fd17a'], // the second match starts right where the first ends
      [' l', true, ''],
      ['oss', false, ''],
    ]);
  });

  it('marks nothing for an empty search', () => {
    expect(markMatches(parseAnsi('text'), '')).toEqual([{ text: 'text', style: {}, mark: false }]);
  });
});
