import { describe, expect, it } from 'vitest';
import { printable, printableBytes } from '../../src/core/printable.js';

describe('printable', () => {
  it('escapes what a terminal would act on: escape sequences, line breaks, tabs, C1 and bidi controls', () => {
    expect(printable('o/\x1b[31mred.txt')).toBe('o/\\x1b[31mred.txt');
    expect(printable('a\nb\tc\rd\x00e\x7ff')).toBe('a\\nb\\tc\\rd\\x00e\\x7ff');
    expect(printable('csi\u009b2J')).toBe('csi\\u009b2J');
    expect(printable('abc\u202egpj.exe')).toBe('abc\\u202egpj.exe');
    expect(printable('line\u2028sep')).toBe('line\\u2028sep');
  });

  it('keeps unicode as it is: accents, CJK, emoji (with their joiners), a backslash and U+FFFD', () => {
    for (const text of ['café', '模型.txt', '😀', '👩‍💻 dev', 'out/..\\weird.txt', 'a\ufffdb', 'ü\u0308'])
      expect(printable(text)).toBe(text);
  });

  it('escapes a lone surrogate, never half of a pair', () => {
    expect(printable('a\ud800b')).toBe('a\\ud800b');
    expect(printable('\udfff')).toBe('\\udfff');
  });

  it('keeps line breaks when asked (a message of several lines), escaping the rest', () => {
    expect(printable('one\ntwo\x1b[2J', '\n')).toBe('one\ntwo\\x1b[2J');
  });

  it('changes nothing the second time', () => {
    const once = printable('o/\x1b[31m\n\u202e');
    expect(printable(once)).toBe(once);
  });
});

describe('printableBytes', () => {
  it('escapes each byte that is not part of valid UTF-8, decoding the rest', () => {
    expect(printableBytes(Buffer.from('o/bad\xff.txt', 'latin1'))).toBe('o/bad\\xff.txt');
    expect(printableBytes(Buffer.from('café/模型', 'utf8'))).toBe('café/模型');
    expect(printableBytes(Buffer.from([0x61, 0xc3, 0x62]))).toBe('a\\xc3b'); // a lead byte without its continuation
    expect(printableBytes(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf'); // an overlong '/'
    expect(printableBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80'); // a surrogate, encoded
    expect(printableBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe('\\xf4\\x90\\x80\\x80'); // past U+10FFFF
    expect(printableBytes(Buffer.from('\u{1f600}', 'utf8'))).toBe('\u{1f600}');
  });

  it('escapes control characters in the valid parts too', () => {
    expect(printableBytes(Buffer.from('a\x1b[31m\xfe', 'latin1'))).toBe('a\\x1b[31m\\xfe');
  });
});
