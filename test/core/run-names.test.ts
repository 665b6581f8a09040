import { describe, expect, it } from 'vitest';
import { JOB_ID, RUN_NAME, runNamePrefix } from '../../src/core/run-names.js';

/** mulberry32: a small seeded PRNG, so that a sequence of names can be asserted. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('runNamePrefix', () => {
  it('is adjective-animal in lower case', () => {
    for (let i = 0; i < 200; i++) expect(runNamePrefix()).toMatch(/^[a-z]+-[a-z]+$/);
  });

  it('makes a valid run name with the number the store adds', () => {
    expect(`${runNamePrefix()}-1`).toMatch(RUN_NAME);
  });

  it('picks from the start and end of the lists for the extremes of random', () => {
    expect(runNamePrefix(() => 0)).toBe('brave-badger');
    expect(runNamePrefix(() => 0.999999)).toBe('wise-wolf');
  });

  it('is deterministic for a seeded random', () => {
    const a = Array.from(
      { length: 20 },
      (
        (r) => () =>
          runNamePrefix(r)
      )(seeded(42)),
    );
    const b = Array.from(
      { length: 20 },
      (
        (r) => () =>
          runNamePrefix(r)
      )(seeded(42)),
    );
    expect(a).toEqual(b);
    const c = Array.from(
      { length: 20 },
      (
        (r) => () =>
          runNamePrefix(r)
      )(seeded(7)),
    );
    expect(c).not.toEqual(a);
  });

  it('draws the adjective first, then the animal', () => {
    const draws = [0, 0.999999];
    let i = 0;
    expect(runNamePrefix(() => draws[i++]!)).toBe('brave-wolf');
    expect(i).toBe(2);
  });

  it('gives varied names', () => {
    const r = seeded(1);
    const names = new Set(Array.from({ length: 100 }, () => runNamePrefix(r)));
    expect(names.size).toBeGreaterThan(50);
  });
});

describe('RUN_NAME and JOB_ID', () => {
  it('accept what dstack makes and reject the rest', () => {
    expect(RUN_NAME.test('fast-rabbit-1')).toBe(true);
    expect(RUN_NAME.test('fast-rabbit-12')).toBe(true);
    expect(RUN_NAME.test('fast-rabbit')).toBe(false);
    expect(RUN_NAME.test('Fast-rabbit-1')).toBe(false);
    expect(JOB_ID.test('53881a211647')).toBe(true);
    expect(JOB_ID.test('53881a21164')).toBe(false);
    expect(JOB_ID.test('53881A211647')).toBe(false);
  });
});
