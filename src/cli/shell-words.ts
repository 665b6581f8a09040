/**
 * One flag's value split into words as a POSIX shell splits a command line, without running
 * one: `--comment="my team" --qos=high` is two words. Quotes and backslashes group and escape;
 * nothing is expanded (`$HOME`, `*` and `~` stay as written), since no shell ever sees the words.
 */

/** A quote never closed, or a backslash with nothing after it; `at` counts characters from 1. */
export class ShellWordsError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
    this.name = 'ShellWordsError';
  }
}

/** Inside double quotes a backslash escapes only these, as in sh; before others it is kept. */
const ESCAPED_IN_DOUBLE = new Set(['"', '\\', '$', '`', '\n']);

export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined; // undefined: between words ('' is a word: `""`)
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw unclosed("'", i);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let part = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && ESCAPED_IN_DOUBLE.has(text[j + 1]!)) j++;
        part += text[j];
      }
      if (j >= text.length) throw unclosed('"', i);
      word = (word ?? '') + part;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ShellWordsError(`a backslash ends it (character ${i + 1})`, i + 1);
      // An escaped newline joins two lines, as in sh; any other escaped character is itself.
      if (text[i + 1] !== '\n') word = (word ?? '') + text[i + 1];
      i += 2;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function unclosed(quote: string, index: number): ShellWordsError {
  return new ShellWordsError(`the ${quote} at character ${index + 1} is never closed`, index + 1);
}
