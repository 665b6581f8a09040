import { describe, expect, it } from 'vitest';
import { closest, distance, suggestion } from '../../src/config/suggest.js';

const KEYS = ['name', 'provider', 'image', 'commands', 'depends-on', 'artifacts', 'resources', 'environment'];

describe('suggest', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(distance('comands', 'commands')).toBe(1);
    expect(distance('comamnds', 'commands')).toBe(1);
    expect(distance('', 'abc')).toBe(3);
    expect(distance('same', 'same')).toBe(0);
  });

  it('finds the key a typo was meant to be', () => {
    expect(closest('comands', KEYS)).toBe('commands');
    expect(closest('artefacts', KEYS)).toBe('artifacts');
    expect(closest('Image', KEYS)).toBe('image');
    expect(closest('depends_on', KEYS)).toBe('depends-on');
    expect(closest('dependson', KEYS)).toBe('depends-on');
  });

  it('suggests nothing for a word that is no typo of any key', () => {
    expect(closest('colour', KEYS)).toBeUndefined();
    expect(closest('x', KEYS)).toBeUndefined();
  });

  it('words the suggestion, or lists the keys', () => {
    expect(suggestion('imag', KEYS)).toBe(" (did you mean 'image'?)");
    expect(suggestion('zzz', ['a', 'b'])).toBe(' (valid keys: a, b)');
  });
});
