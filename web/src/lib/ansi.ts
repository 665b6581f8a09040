/**
 * Terminal output → styled segments, as a terminal would show the line: SGR colours and
 * attributes, `\r` (back to column 0: progress bars overwrite themselves), backspace,
 * tabs, and the erase-in-line / cursor-column sequences that progress bars use. Other
 * escape sequences are dropped. Pure: no DOM.
 */

/** Visual attributes of a run of characters; colours are CSS colour strings. */
export interface AnsiStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface Segment {
  text: string;
  style: AnsiStyle;
}

/** The 16 basic colours, tuned to read on the log's dark background. */
const BASIC = [
  '#3b4252', // black
  '#ef6b73', // red
  '#8fd17a', // green
  '#e8c260', // yellow
  '#6cb2f5', // blue
  '#c792ea', // magenta
  '#5fd4d4', // cyan
  '#d8dee9', // white
  '#6b7587', // bright black
  '#ff8a91',
  '#a9e69a',
  '#ffd97a',
  '#8fc6ff',
  '#e0b0ff',
  '#8ff0f0',
  '#ffffff',
];

/** A colour of the 256-colour palette: 16 basic, a 6×6×6 cube, 24 greys. */
export function palette256(n: number): string {
  if (n < 16) return BASIC[n]!;
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return rgb(level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6));
  }
  const grey = 8 + (n - 232) * 10;
  return rgb(grey, grey, grey);
}

function rgb(r: number, g: number, b: number): string {
  return `rgb(${r},${g},${b})`;
}

/** Apply one SGR sequence's parameters to a style (returns a new style). */
export function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const s: AnsiStyle = { ...style };
  const codes = params.length === 0 ? [0] : params;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code === 0) for (const key of Object.keys(s)) delete s[key as keyof AnsiStyle];
    else if (code === 1) s.bold = true;
    else if (code === 2) s.dim = true;
    else if (code === 3) s.italic = true;
    else if (code === 4) s.underline = true;
    else if (code === 7) s.inverse = true;
    else if (code === 22) {
      delete s.bold;
      delete s.dim;
    } else if (code === 23) delete s.italic;
    else if (code === 24) delete s.underline;
    else if (code === 27) delete s.inverse;
    else if (code >= 30 && code <= 37) s.fg = BASIC[code - 30];
    else if (code >= 90 && code <= 97) s.fg = BASIC[code - 90 + 8];
    else if (code >= 40 && code <= 47) s.bg = BASIC[code - 40];
    else if (code >= 100 && code <= 107) s.bg = BASIC[code - 100 + 8];
    else if (code === 39) delete s.fg;
    else if (code === 49) delete s.bg;
    else if (code === 38 || code === 48) {
      // 38;5;N (palette) or 38;2;R;G;B (true colour)
      const key = code === 38 ? 'fg' : 'bg';
      if (codes[i + 1] === 5 && codes[i + 2] !== undefined) {
        s[key] = palette256(codes[i + 2]! & 255);
        i += 2;
      } else if (codes[i + 1] === 2 && codes[i + 4] !== undefined) {
        s[key] = rgb(codes[i + 2]! & 255, codes[i + 3]! & 255, codes[i + 4]! & 255);
        i += 4;
      }
    }
  }
  return s;
}

const ESC = '\u001b';
/** A character that takes a cell: not a control character, not DEL (ESC is a control character). */
const printable = (code: number): boolean => code >= 0x20 && code !== 0x7f;
/** An escape sequence cut off at the end of a piece waits for the next one, up to this long. */
const MAX_PENDING = 4096;

/**
 * One line of a terminal, fed as its pieces arrive: a line the job wrote over several log
 * entries (a `\r` progress bar) is drawn exactly as if it had come in one piece, and each
 * piece costs its own length plus the line's width, not everything written to the line so far.
 */
export class TermLine {
  /**
   * The line's cells as two arrays, a character and its style at each column: a cell object
   * per character made a 200 KB line 200,000 objects to allocate and walk.
   */
  private chars: string[] = [];
  private styles: AnsiStyle[] = [];
  /**
   * Until something is written anywhere but at the line's end (a `\r` progress bar, an erase),
   * the line is kept as its segments, and a piece costs its own length: a 200 KB line of one
   * colour is one string, not 200,000 cells. `undefined` once the cells are made.
   */
  private runs: Segment[] | undefined = [];
  private runsWidth = 0;
  private cursor = 0;
  private style: AnsiStyle = {};
  /** The start of an escape sequence that the last piece cut off. */
  private pending = '';

  /** Cells on the line: what it shows, however much was written to it. */
  get width(): number {
    return this.runs ? this.runsWidth : this.chars.length;
  }

  feed(piece: string): this {
    const text = this.pending + piece;
    this.pending = '';
    const { chars, styles } = this;
    const put = (ch: string) => {
      this.toCells();
      while (chars.length < this.cursor) {
        chars.push(' ');
        styles.push({});
      }
      chars[this.cursor] = ch;
      styles[this.cursor++] = this.style;
    };
    for (let i = 0; i < text.length; i++) {
      if (printable(text.charCodeAt(i))) {
        // A run of plain characters (most of any line) is written in one loop, not a call each.
        let end = i + 1;
        while (end < text.length && printable(text.charCodeAt(end))) end++;
        if (this.runs && this.cursor === this.runsWidth) {
          this.append(text.slice(i, end));
          i = end - 1;
          continue;
        }
        put(text[i]!); // pads the line up to the cursor first
        for (let k = i + 1; k < end; k++) {
          chars[this.cursor] = text[k]!;
          styles[this.cursor++] = this.style;
        }
        i = end - 1;
        continue;
      }
      const ch = text[i]!;
      if (ch === ESC) {
        const next = text[i + 1];
        if (next === '[') {
          // CSI: parameters, then one final byte in @–~.
          let j = i + 2;
          while (j < text.length && !/[@-~]/.test(text[j]!)) j++;
          if (j >= text.length) return this.cutOff(text.slice(i));
          const raw = text.slice(i + 2, j);
          const params = raw === '' ? [] : raw.split(';').map((p) => (p === '' ? 0 : Number.parseInt(p, 10) || 0));
          this.csi(text[j]!, raw, params);
          i = j;
        } else if (next === ']') {
          // OSC (titles, hyperlinks): up to BEL or ESC \.
          let j = i + 2;
          while (j < text.length && text[j] !== '\u0007' && !(text[j] === ESC && text[j + 1] === '\\')) j++;
          if (j >= text.length || (text[j] === ESC && j + 1 >= text.length)) return this.cutOff(text.slice(i));
          i = text[j] === ESC ? j + 1 : j;
        } else if (next === undefined) return this.cutOff(ch);
        else i++; // a two-character escape
      } else if (ch === '\r') this.cursor = 0;
      else if (ch === '\b') this.cursor = Math.max(0, this.cursor - 1);
      else if (ch === '\t') {
        do put(' ');
        while (this.cursor % 8 !== 0);
      } else if (ch >= ' ' && ch !== '\u007f') put(ch);
    }
    return this;
  }

  /** What the line shows, in runs of equal style; an escape still cut off shows nothing. */
  segments(): Segment[] {
    if (this.runs) return this.runs.map((r) => ({ text: r.text, style: r.style }));
    return group(this.chars, this.styles);
  }

  /** Write `text` (plain characters) at the line's end, kept as segments. */
  private append(text: string): void {
    const runs = this.runs!;
    const last = runs[runs.length - 1];
    if (last && last.style === this.style) last.text += text;
    else runs.push({ text, style: this.style });
    this.runsWidth += text.length;
    this.cursor += text.length;
  }

  /** Make the cells of a line kept as segments, to write anywhere on it. */
  private toCells(): void {
    if (!this.runs) return;
    for (const run of this.runs) {
      for (const ch of run.text.split('')) {
        this.chars.push(ch);
        this.styles.push(run.style);
      }
    }
    this.runs = undefined;
  }

  private cutOff(rest: string): this {
    // Longer than any real sequence: not one, drop it (as a line that ends inside one does).
    if (rest.length <= MAX_PENDING) this.pending = rest;
    return this;
  }

  private csi(final: string, raw: string, params: number[]): void {
    const { chars, styles } = this;
    const n = params[0] ?? 0;
    switch (final) {
      case 'm':
        if (!raw.startsWith('?')) this.style = applySgr(this.style, params);
        break;
      case 'K': // erase in line: 0 to the end, 1 to the cursor, 2 all
        if (n === 0 && this.runs && this.cursor >= this.runsWidth) break; // nothing past the end
        this.toCells();
        if (n === 0) chars.length = styles.length = Math.min(chars.length, this.cursor);
        else if (n === 1)
          for (let k = 0; k <= this.cursor && k < chars.length; k++) {
            chars[k] = ' ';
            styles[k] = {};
          }
        else if (n === 2) chars.length = styles.length = 0;
        break;
      case 'G': // cursor to column n (1-based)
        this.cursor = Math.max(0, (n || 1) - 1);
        break;
      case 'C':
        this.cursor += n || 1;
        break;
      case 'D':
        this.cursor = Math.max(0, this.cursor - (n || 1));
        break;
      default: // anything else (cursor up, scroll regions, modes) has no meaning in a log line
    }
  }
}

/** Render one line of output into segments of equal style. */
export function parseAnsi(text: string): Segment[] {
  return new TermLine().feed(text).segments();
}

function group(chars: readonly string[], styles: readonly AnsiStyle[]): Segment[] {
  const segments: Segment[] = [];
  let start = 0;
  for (let i = 1; i <= chars.length; i++) {
    if (i < chars.length && styles[i] === styles[start]) continue;
    // A run's characters joined at once: one string, not one concatenation per character.
    segments.push({ text: chars.slice(start, i).join(''), style: styles[start]! });
    start = i;
  }
  return segments;
}

/** The text a person sees, without styles: what search matches against. */
export function plainText(text: string): string {
  return parseAnsi(text)
    .map((s) => s.text)
    .join('');
}
