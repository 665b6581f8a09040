import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeConfigText, readConfigFile } from '../../src/config/config-text.js';
import { configError } from './helpers.js';

const file = '.dstack/workflows.yaml';
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const ADVICE =
  'is not UTF-8 text: dstack reads its config files as UTF-8 and changes none of their text; ' +
  'save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)';

describe('decodeConfigText', () => {
  it('reads UTF-8 as it is, past a byte order mark', () => {
    expect(decodeConfigText(bytes('a: café ✓\n'), file)).toBe('a: café ✓\n');
    expect(decodeConfigText(bytes([0xef, 0xbb, 0xbf], 'a: 1\n'), file)).toBe('a: 1\n');
  });

  it('refuses a Latin-1 byte at its line and column, counting characters, not bytes', () => {
    const text = bytes('workflows:\n  - name: a\n    commands:\n      - echo ✓ caf', [0xe9], '\n');
    expect(configError(() => decodeConfigText(text, file)).message).toBe(
      `${file}:4:19: byte 0xe9 (in Latin-1, 'é') ${ADVICE}`,
    );
  });

  it('blames the first byte of a character cut short, at the end of the file too', () => {
    expect(configError(() => decodeConfigText(bytes('ab', [0xc3], 'x'), file)).message).toBe(
      `${file}:1:3: byte 0xc3 (in Latin-1, 'Ã') ${ADVICE}`,
    );
    expect(configError(() => decodeConfigText(bytes('a\nb', [0xe2, 0x9c]), file)).message).toBe(
      `${file}:2:2: byte 0xe2 (in Latin-1, 'â') ${ADVICE}`,
    );
    expect(configError(() => decodeConfigText(bytes('x', [0x85]), file)).message).toBe(
      `${file}:1:2: byte 0x85 ${ADVICE}`,
    );
  });

  it('says a UTF-16 file is UTF-16', () => {
    expect(configError(() => decodeConfigText(Buffer.from('\ufeffa: 1\n', 'utf16le'), file)).message).toBe(
      `${file}:1:1: the file is UTF-16 text: save it as UTF-8`,
    );
  });
});

describe('readConfigFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dstack-config-text-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads no file as none', async () => {
    expect(await readConfigFile(join(dir, 'none.yaml'), file)).toBeUndefined();
  });

  it('says a link to a missing file is one, not that there is no file', async () => {
    symlinkSync('gone.yaml', join(dir, 'w.yaml'));
    await expect(readConfigFile(join(dir, 'w.yaml'), file)).rejects.toThrow(
      `${file}: is a link to gone.yaml, which does not exist: fix the link or remove it`,
    );
  });

  it('says a folder is not a file, with what that stops', async () => {
    mkdirSync(join(dir, 'w.yaml'));
    await expect(readConfigFile(join(dir, 'w.yaml'), file, 'so no workflow runs')).rejects.toThrow(
      `${file}: is a folder, not a file; so no workflow runs`,
    );
  });

  it('refuses a file that is not UTF-8', async () => {
    writeFileSync(join(dir, 'w.yaml'), bytes('a: caf', [0xe9]));
    await expect(readConfigFile(join(dir, 'w.yaml'), file)).rejects.toThrow(`${file}:1:7: byte 0xe9`);
  });
});
