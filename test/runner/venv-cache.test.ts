/** The key of a cached virtualenv: user, runtime, requirements and pip's settings, in any order. */
import { describe, expect, it } from 'vitest';
import { cachedVenv } from '../../src/runner/venv-cache.js';

const folder = (pip?: Record<string, string>) => cachedVenv('/work', 'alice', 'python3.11', 'numpy\n', pip).folder;

describe('cachedVenv', () => {
  it('is another virtualenv for other pip settings, and the same for the same ones in any order', () => {
    const index = { PIP_INDEX_URL: 'https://a.example.com/simple', PIP_NO_INDEX: '0' };
    expect(folder(index)).not.toBe(folder());
    expect(folder(index)).not.toBe(folder({ ...index, PIP_INDEX_URL: 'https://b.example.com/simple' }));
    expect(folder(index)).not.toBe(folder({ ...index, PIP_PRE: '1' }));
    expect(folder(index)).toBe(folder({ PIP_NO_INDEX: '0', PIP_INDEX_URL: 'https://a.example.com/simple' }));
  });

  it('is another virtualenv for another listing of the wheel folders, and the same without one', () => {
    const venv = (wheels?: string) => cachedVenv('/work', 'alice', 'python3.11', 'numpy\n', {}, wheels).folder;
    expect(venv('/opt/wheels a.whl 1 1')).not.toBe(venv('/opt/wheels a.whl 2 1'));
    expect(venv('')).toBe(venv());
  });

  it('keeps the key of earlier versions without pip settings, so their virtualenvs stay in use', () => {
    expect(folder({})).toBe(folder());
    expect(folder()).toBe('/work/venvs/4755435311e51de3ecce5c0949f95726'); // as the key was before them
  });
});
