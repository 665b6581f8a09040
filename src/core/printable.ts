/**
 * Text a user or a job chose (file names, link targets, reasons) as it may be shown on a
 * terminal: a name with an escape sequence would recolour it or move its cursor, a line
 * break would split a table row, a tab misalign its columns, a bidi override reorder what
 * follows. Those characters are shown escaped (`\x1b`, `\n`, `\u202e`); everything else
 * (é, emoji, CJK, a backslash that is part of a name) is kept as it is. Escaping twice
 * changes nothing: what it writes is printable.
 */

/**
 * C0 controls and DEL, C1 controls, lone surrogates (what is left of bytes that were not
 * UTF-8 once decoded as UTF-16), the bidi controls and the line and paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udfff]/gu;

const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escaped(ch: string): string {
  const short = SHORT[ch];
  if (short) return short;
  const code = ch.codePointAt(0)!;
  return code < 0x80 ? `\\x${hex(code)}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** `text` with what a terminal would act on escaped; `keep: '\n'` leaves line breaks (a multi-line message). */
export function printable(text: string, keep?: '\n'): string {
  // The `u` flag matches a valid surrogate pair as one character (an emoji), never half of it.
  return text.replace(UNPRINTABLE, (ch) => (ch === keep ? ch : escaped(ch)));
}

/**
 * A file name as bytes, shown: each byte that is not part of a valid UTF-8 sequence as `\xNN`
 * (`o/bad\xff.txt`), the rest decoded and made printable.
 */
export function printableBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n === 0) {
      out += `\\x${hex(bytes[i]!)}`;
      i++;
    } else {
      out += printable(utf8.decode(bytes.subarray(i, i + n)));
      i += n;
    }
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The length of the valid UTF-8 sequence at `i` (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF); 0 when there is none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
