import { describe, expect, it } from 'vitest';
import type { CodeFile } from '../../src/core/cache-key.js';
import { whyAnew, type KeyFacts } from '../../src/core/why-anew.js';
import { makeSpec } from '../store/fixtures.js';

const file = (path: string, digest: string, mode = 0o644): CodeFile => ({ path, digest, mode });
const facts = (fields: Partial<KeyFacts> = {}): KeyFacts => ({
  spec: makeSpec('train', { commands: ['python3 train.py --seed 42'], variables: { seed: '42', lr: '0.1' } }),
  code: [file('train.py', 'a'), file('data.csv', 'b')],
  producers: [],
  ...fields,
});

describe('why a job runs anew', () => {
  it('names a changed, set and unset variable, and not the commands that changed only by it', () => {
    const now = facts({
      spec: makeSpec('train', { commands: ['python3 train.py --seed 7'], variables: { seed: '7', epochs: '3' } }),
    });
    expect(whyAnew(facts(), now)).toEqual([
      'variable epochs set (3)',
      'variable lr unset (was 0.1)',
      'variable seed 42 → 7',
    ]);
  });

  it('names the fields of the spec that changed by themselves', () => {
    const now = facts({
      spec: makeSpec('train', {
        commands: ['python3 train.py --seed 42 --fast'],
        variables: { seed: '42', lr: '0.1' },
        env: { A: '1' },
        image: 'python:3.11',
      }),
    });
    expect(whyAnew(facts(), now)).toEqual(['its commands changed', 'its environment changed', 'its image changed']);
  });

  it('names changed, added and removed files, a few of each, and an executable bit', () => {
    const many = Array.from({ length: 5 }, (_, i) => file(`src/m${i}.py`, 'x'));
    const now = facts({ code: [file('train.py', 'a', 0o755), file('data.csv', 'c'), ...many] });
    expect(whyAnew(facts(), now)).toEqual([
      'data.csv, train.py changed',
      'src/m0.py, src/m1.py, src/m2.py and 2 more added',
    ]);
    expect(whyAnew(now, facts())).toEqual([
      'data.csv, train.py changed',
      'src/m0.py, src/m1.py, src/m2.py and 2 more removed',
    ]);
  });

  it("names a dependency whose artifacts another job made, and says nothing when only the key's environment differs", () => {
    const spec = makeSpec('train', { dependsOn: [{ ref: 'prepare' }, { workflow: 'prepare', tag: 'best' }] });
    expect(whyAnew(facts({ spec, producers: ['p1', 't1'] }), facts({ spec, producers: ['p2', 't1'] }))).toEqual([
      'prepare gives other artifacts',
    ]);
    expect(whyAnew(facts(), facts())).toEqual([]);
  });

  it('names a depends-on item written another way, though its artifacts come from the same job', () => {
    const before = makeSpec('train', { dependsOn: [{ ref: 'prepare' }] });
    const now = makeSpec('train', { dependsOn: [{ workflow: 'prepare', tag: 'latest' }] });
    expect(whyAnew(facts({ spec: before, producers: ['p1'] }), facts({ spec: now, producers: ['p1'] }))).toEqual([
      'depends-on prepare → prepare:latest',
    ]);
  });
});
