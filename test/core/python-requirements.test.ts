/** The python provider's `requirements`: a file, or a list of packages (core/python-requirements.ts). */
import { describe, expect, it } from 'vitest';
import { notAPackage, requirementsLabel, requirementsOf } from '../../src/core/python-requirements.js';

describe('requirementsOf', () => {
  it('reads a file, a list of packages, or nothing', () => {
    expect(requirementsOf({ requirements: ' requirements.txt ' })).toEqual({ file: 'requirements.txt' });
    expect(requirementsOf({ requirements: ['tqdm', ' numpy==1.26 ', ''] })).toEqual({
      packages: ['tqdm', 'numpy==1.26'],
    });
    for (const none of [undefined, '', '  ', []]) expect(requirementsOf({ requirements: none })).toBeUndefined();
  });

  it('names them for the log', () => {
    expect(requirementsLabel({ file: 'deps/dev.txt' })).toBe('deps/dev.txt');
    expect(requirementsLabel({ packages: ['tqdm', 'numpy==1.26'] })).toBe('the packages tqdm, numpy==1.26');
  });
});

describe('notAPackage', () => {
  it.each(['tqdm', 'numpy==1.26', 'torch>=2; sys_platform == "linux"', 'pkg @ https://example.com/pkg.whl'])(
    'takes %s',
    (entry) => expect(notAPackage(entry)).toBeUndefined(),
  );

  it("refuses pip's options and requirements files' names", () => {
    expect(notAPackage('--pre')).toMatch(/^is an option of pip's, not a package/);
    expect(notAPackage('deps/dev.in')).toBe("names a file: a requirements file is written 'requirements: deps/dev.in'");
  });
});
