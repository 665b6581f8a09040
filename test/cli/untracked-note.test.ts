/** The note `dstack run` gives when untracked files make the run's code large. */
import { describe, expect, it } from 'vitest';
import { untrackedNote } from '../../src/cli/untracked-note.js';
import type { ManifestEntry } from '../../src/core/records.js';

const file = (path: string, size: number): ManifestEntry => ({ path, size, mode: 0o644, digest: 'd' });
const MB = 1_000_000;

describe('untrackedNote', () => {
  const files = [
    file('train.py', 200 * MB), // tracked: not counted, however large
    file('rawdata/a.csv', 30 * MB),
    file('rawdata/sub/b.csv', 25 * MB),
    file('rawdata-not/c.bin', 1 * MB),
    file('notes.txt', 2 * MB),
  ];

  it('says nothing up to 50 MB untracked', () => {
    expect(untrackedNote(files, ['rawdata-not/', 'notes.txt'])).toBeUndefined();
    expect(untrackedNote(files, [])).toBeUndefined();
    expect(untrackedNote([file('x.bin', 50 * MB)], ['x.bin'])).toBeUndefined();
  });

  it("names the largest untracked paths, a folder by its files' bytes, then how many more", () => {
    expect(untrackedNote(files, ['notes.txt', 'rawdata/', 'rawdata-not/'])).toBe(
      'files git does not track add 58MB to the code of every run (rawdata/ 55MB, notes.txt 2.0MB, rawdata-not/ 1.0MB); ' +
        'if jobs do not need them, have git ignore them (.gitignore)',
    );
    const many = [...files, file('z.bin', 1000)];
    expect(untrackedNote(many, ['notes.txt', 'rawdata/', 'rawdata-not/', 'z.bin'])).toContain(
      '(rawdata/ 55MB, notes.txt 2.0MB, rawdata-not/ 1.0MB, and 1 more)',
    );
  });

  it('names the top-level paths of a project that git does not track at all', () => {
    expect(untrackedNote(files, [''])).toContain(
      'add 258MB to the code of every run (train.py 200MB, rawdata/ 55MB, notes.txt 2.0MB, and 1 more)',
    );
  });
});
