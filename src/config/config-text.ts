/**
 * Reading dstack's config files (`.dstack/*.yaml`, `config.yml`) as UTF-8, refusing what is
 * not: decoding with replacement turned a Latin-1 `café` into `caf` + U+FFFD, and ran that.
 */
import { readFile, readlink } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';

/**
 * The text of the file at `path`; undefined when there is none. `file` is its name in errors
 * (`.dstack/workflows.yaml`), and `consequence` what a file that cannot be read stops (a sentence, optional).
 */
export async function readConfigFile(path: string, file: string, consequence = ''): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A link whose file is gone is not "no file": the user made it, and means it to be read.
      const target = await readlink(path).catch(() => undefined);
      if (target === undefined) return undefined;
      throw new ConfigError(`is a link to ${target}, which does not exist: fix the link or remove it`, { file });
    }
    const why = code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read: ${(e as Error).message}`;
    throw new ConfigError(`${why}${consequence ? `; ${consequence}` : ''}`, { file });
  }
  return decodeConfigText(bytes, file);
}

/** `bytes` as UTF-8 text; a ConfigError at the line and column of the first byte that is not UTF-8. */
export function decodeConfigText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw notUtf8(bytes, file);
  }
}

const BOM = [0xef, 0xbb, 0xbf];

function notUtf8(bytes: Uint8Array, file: string): ConfigError {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return new ConfigError('the file is UTF-16 text: save it as UTF-8', { file, line: 1, column: 1 });
  }
  // Fed a byte at a time, the decoder throws at the first byte that cannot continue a character;
  // the bad sequence began after the last character it gave.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const skip = BOM.every((b, i) => bytes[i] === b) ? BOM.length : 0;
  let line = 1;
  let column = 1;
  let start = skip;
  for (let i = skip; i < bytes.length; i++) {
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      break;
    }
    if (text === '') continue;
    start = i + 1;
    for (const ch of text) {
      if (ch === '\n') [line, column] = [line + 1, 1];
      else column++;
    }
  }
  const byte = bytes[start] ?? 0;
  // 0xA0-0xFF are letters and signs in Latin-1, the usual encoding of such a file.
  const latin1 = byte >= 0xa0 ? ` (in Latin-1, '${String.fromCharCode(byte)}')` : '';
  return new ConfigError(
    `byte 0x${byte.toString(16).padStart(2, '0')}${latin1} is not UTF-8 text: dstack reads its config files ` +
      'as UTF-8 and changes none of their text; save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)',
    { file, line, column },
  );
}
