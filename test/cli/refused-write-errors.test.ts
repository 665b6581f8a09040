/**
 * A write the system refused that no caller explained is still the user's to fix, not a bug:
 * the CLI says what it is (with the path when the error has one) and exits 1, not 70.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/errors.js';
import { mountSmallDisk, type SmallDisk } from '../fixtures/small-disk.js';

/** What `f` throws: a real error of the system's. */
function thrown(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('it did not throw');
}

describe('reportError of a refused write', () => {
  let disk: SmallDisk;
  beforeAll(async () => {
    disk = await mountSmallDisk(1);
    await disk.readOnly(true);
  });
  afterAll(() => disk?.unmount());
  afterEach(() => vi.restoreAllMocks());

  const report = (error: unknown): { code: number; text: string } => {
    let text = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      text += String(chunk);
      return true;
    });
    const code = reportError(error, false);
    vi.restoreAllMocks();
    return { code, text };
  };

  it('says a disk is full, without a path where the write had none', () => {
    // /dev/full answers every write with ENOSPC, as a full disk does.
    const e = thrown(() => writeFileSync('/dev/full', 'x'));
    expect(report(e)).toEqual({
      code: 1,
      text: 'error: a disk is full (no space left on device): free space on it and run again\n',
    });
    expect(report(new Error('saving', { cause: e })).code).toBe(1); // found among the causes too
  });

  it('names the path of a read-only file system', () => {
    const path = join(disk.path, 'made');
    const e = thrown(() => mkdirSync(path));
    expect(report(e)).toEqual({ code: 1, text: `error: ${path}: read-only file system (EROFS)\n` });
  });

  it('leaves other errors to be reported as bugs', () => {
    expect(report(new Error('boom')).code).toBe(70);
  });
});
