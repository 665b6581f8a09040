/**
 * What js-yaml read from a config file, kept between CLI calls as JSON. js-yaml reads a
 * 1,000-workflow file in about 30 ms, a tenth of a fully cached `dstack run`; the same data
 * parses from JSON in about 1 ms. Only the plain data is kept: every check of it (workflow.ts,
 * variables.ts) still runs on each call, and locations are still found from the text.
 *
 * One entry per config file (named by a digest of its path), so the folder holds as many
 * entries as there are projects. An entry is used only when it was read from this exact text
 * by this exact reader (`FAST_READER`): a digest of both is its key. Entries are written whole
 * (temporary file, then rename); one that cannot be read or written is simply not used.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_READER, type PlainReader } from './fast-yaml.js';
import type { Plain } from './yaml-source.js';
import { makeFolderSync } from '../files/make-folder.js';

interface Entry {
  key: string;
  plain: Plain;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `read`, remembered in `dir` for the file at `path` (an absolute path). */
export function cachedReader(dir: string, path: string, read: PlainReader): PlainReader {
  const file = join(dir, `${sha256(path).slice(0, 32)}.json`);
  return (text) => {
    const key = sha256(`${FAST_READER}\0${text}`);
    const hit = lookUp(file, key);
    if (hit) return hit.plain;
    const plain = read(text);
    // Declined (undefined): the full parse runs each time, as it should for a file it must explain.
    if (plain !== undefined) store(dir, file, { key, plain });
    return plain;
  };
}

function lookUp(file: string, key: string): Entry | undefined {
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Partial<Entry> | null;
    return entry?.key === key && 'plain' in entry ? (entry as Entry) : undefined;
  } catch {
    return undefined; // none yet, or unreadable: read the text
  }
}

function store(dir: string, file: string, entry: Entry): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    makeFolderSync(dir, 0o700);
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    rmSync(temp, { force: true }); // a read-only home: the next call reads the text again
  }
}
