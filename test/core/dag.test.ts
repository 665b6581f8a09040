import { describe, expect, it } from 'vitest';
import { closure } from '../../src/core/dag.js';

/** Edges from a literal graph; a name not in it has no dependencies. */
function graph(g: Record<string, string[]>) {
  return (name: string): readonly string[] => g[name] ?? [];
}

describe('closure', () => {
  it('puts dependencies before dependents, in the order they are written', () => {
    const edges = graph({
      'finetune-model': ['download-model', 'encode-dataset'],
      'encode-dataset': ['download-model'],
    });
    expect(closure('finetune-model', edges)).toEqual({
      ok: true,
      order: ['download-model', 'encode-dataset', 'finetune-model'],
    });
  });

  it('follows the written order of siblings', () => {
    expect(closure('t', graph({ t: ['c', 'a', 'b'] }))).toEqual({ ok: true, order: ['c', 'a', 'b', 't'] });
    expect(closure('t', graph({ t: ['b', 'a', 'c'] }))).toEqual({ ok: true, order: ['b', 'a', 'c', 't'] });
  });

  it('is just the target when it has no dependencies', () => {
    expect(closure('hello', graph({}))).toEqual({ ok: true, order: ['hello'] });
  });

  it('includes only what the target reaches', () => {
    expect(closure('b', graph({ a: ['b'], b: ['c'], d: ['c'] }))).toEqual({ ok: true, order: ['c', 'b'] });
  });

  it('lists a shared dependency of a diamond once', () => {
    const result = closure('top', graph({ top: ['left', 'right'], left: ['base'], right: ['base'] }));
    expect(result).toEqual({ ok: true, order: ['base', 'left', 'right', 'top'] });
  });

  it('returns a two-node cycle as the path that closes it', () => {
    expect(closure('a', graph({ a: ['b'], b: ['a'] }))).toEqual({ ok: false, cycle: ['a', 'b', 'a'] });
  });

  it('returns only the cycle, not the path leading into it', () => {
    expect(closure('x', graph({ x: ['a'], a: ['b'], b: ['c'], c: ['a'] }))).toEqual({
      ok: false,
      cycle: ['a', 'b', 'c', 'a'],
    });
  });

  it('returns a self-dependency as a cycle', () => {
    expect(closure('a', graph({ a: ['a'] }))).toEqual({ ok: false, cycle: ['a', 'a'] });
  });

  it('does not take a diamond for a cycle', () => {
    const result = closure('a', graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }));
    expect(result.ok).toBe(true);
  });

  it('handles a 10,000-deep chain without overflowing the stack', () => {
    const depth = 10_000;
    const edges = (name: string): readonly string[] => {
      const i = Number(name.slice(1));
      return i < depth - 1 ? [`n${i + 1}`] : [];
    };
    const result = closure('n0', edges);
    if (!result.ok) throw new Error(`unexpected cycle ${result.cycle.join(' -> ')}`);
    expect(result.order).toHaveLength(depth);
    expect(result.order[0]).toBe(`n${depth - 1}`);
    expect(result.order[depth - 1]).toBe('n0');
  });

  it('finds a cycle at the end of a 10,000-deep chain', () => {
    const depth = 10_000;
    const edges = (name: string): readonly string[] => {
      const i = Number(name.slice(1));
      return i < depth - 1 ? [`n${i + 1}`] : ['n5000'];
    };
    const result = closure('n0', edges);
    if (result.ok) throw new Error('expected a cycle');
    expect(result.cycle[0]).toBe('n5000');
    expect(result.cycle.at(-1)).toBe('n5000');
    expect(result.cycle).toHaveLength(depth - 5000 + 1);
  });
});
