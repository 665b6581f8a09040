/**
 * Where a link lands is found as the kernel finds it, name by name, each link on the way
 * followed from its own folder: a chain of links that each stay inside may lead out together.
 */
import { describe, expect, it } from 'vitest';
import {
  isWithin,
  landing,
  linkLanding,
  linksLeadingOut,
  MAX_LINKS_FOLLOWED,
  type LinkAt,
} from '../../src/files/link-resolution.js';

const links =
  (targets: Record<string, string>): LinkAt =>
  (path) =>
    targets[path];
const none = links({});

describe('linkLanding', () => {
  it('lands a link without links on its way where its folder and target lead', () => {
    expect(linkLanding('a/b/l', '../c', none)).toBe('a/c');
    expect(linkLanding('a/b/l', './c//d/', none)).toBe('a/b/c/d');
    expect(linkLanding('l', '.', none)).toBe('');
    expect(linkLanding('a/l', '..', none)).toBe('');
    expect(linkLanding('a/l', '../x/../../y/..', none)).toBeUndefined(); // above the root on the way
    expect(linkLanding('l', '..', none)).toBeUndefined();
    expect(linkLanding('a/b/c/d/l', '../../../../..', none)).toBeUndefined();
  });

  it('takes an absolute target, of the link or of one on its way, as leading out', () => {
    expect(linkLanding('a/l', '/etc', none)).toBeUndefined();
    expect(linkLanding('a/l', 'abs/..', links({ 'a/abs': '/tmp/ws/a' }))).toBeUndefined();
  });

  it('follows a link on the way before the names after it: the chain that ends at /', () => {
    const at = links({ 'out/a/b/c/d/y': '../../../..' });
    expect(linkLanding('out/a/b/c/d/y', '../../../..', at)).toBe('out');
    // Joined as text, out/a/b/c/d/y/../../../../.. is out; y leads to out, so its .. are out's.
    expect(linkLanding('out/a/b/c/d/x', 'y/../../../../..', at)).toBeUndefined();
    expect(linkLanding('out/a/b/c/d/x', 'y/..', at)).toBe('');
    expect(linkLanding('out/a/b/c/d/x', 'y/a/b', at)).toBe('out/a/b');
  });

  it('applies .. after a link to where the link leads, deeper or shallower than its own folder', () => {
    const at = links({ 'a/deep': 'x/y/z', 'a/up': '..' });
    expect(linkLanding('a/l', 'deep/..', at)).toBe('a/x/y');
    expect(linkLanding('a/l', 'deep/../../../..', at)).toBe('');
    expect(linkLanding('a/l', 'up/..', at)).toBeUndefined();
    expect(linkLanding('a/l', 'up/a/up/a/f', at)).toBe('a/f');
  });

  it('follows links to links to folders, the last name too', () => {
    const at = links({ l1: 'l2', l2: 'data/sub', 'data/sub/out': '../../..' });
    expect(linkLanding('m', 'l1', at)).toBe('data/sub');
    expect(linkLanding('m', 'l1/../..', at)).toBe('');
    expect(linkLanding('m', 'l1/../../..', at)).toBeUndefined();
    expect(linkLanding('m', 'l1/f', at)).toBe('data/sub/f');
    expect(linkLanding('m', 'l1/out', at)).toBeUndefined(); // a link at the end that leads out
  });

  it('follows links on the folder the link is in, as writing it there does', () => {
    // a/b is the root itself: a/b/c/d is written at c/d, and ../.. from there leads out.
    expect(linkLanding('a/b/c/d', '../..', links({ 'a/b': '..' }))).toBeUndefined();
    expect(linkLanding('a/b/c/d', '..', links({ 'a/b': '..' }))).toBe('');
    expect(landing('a/b', 'c', links({ 'a/b': 'x/y' }))).toBe('a/x/y/c');
  });

  it('takes a loop, or more links than the kernel follows, as leading out', () => {
    expect(linkLanding('x', 'a', links({ a: 'b', b: 'a' }))).toBeUndefined();
    expect(linkLanding('x', 'a', links({ a: 'a' }))).toBeUndefined();
    expect(linkLanding('x', 'l/f', links({ l: 'l/x' }))).toBeUndefined();
    const chain = (n: number) => {
      const targets: Record<string, string> = {};
      for (let i = 0; i < n - 1; i++) targets[`l${i}`] = `l${i + 1}`;
      targets[`l${n - 1}`] = 'data';
      return links(targets);
    };
    expect(linkLanding('x', 'l0', chain(MAX_LINKS_FOLLOWED))).toBe('data');
    expect(linkLanding('x', 'l0', chain(MAX_LINKS_FOLLOWED + 1))).toBeUndefined();
    // The limit counts every link of the resolution, the folder's too.
    expect(landing('l0', 'f', chain(MAX_LINKS_FOLLOWED))).toBe('data/f');
    expect(landing('l0/f', '../../l0', chain(MAX_LINKS_FOLLOWED))).toBeUndefined();
    expect(landing('f', '../l0', chain(MAX_LINKS_FOLLOWED))).toBe('data');
  });
});

describe('isWithin', () => {
  it('tells a folder and what is below it from a look-alike sibling; the root holds everything', () => {
    expect(isWithin('out', 'out')).toBe(true);
    expect(isWithin('out', 'out/x')).toBe(true);
    expect(isWithin('out', 'outside')).toBe(false);
    expect(isWithin('out', '')).toBe(false);
    expect(isWithin('', 'anything/at/all')).toBe(true);
  });
});

describe('linksLeadingOut', () => {
  const link = (path: string, target: string, boundary = 'out') => ({ path, link: target, boundary });

  it('names the links that lead out of their boundary through the others, in their order', () => {
    const y = link('out/a/b/c/d/y', '../../../..');
    const x = link('out/a/b/c/d/x', 'y/../../../../..');
    const inside = link('out/a/inside', '../a.txt');
    const sideways = link('out/a/b/c/d/z', 'y/../other'); // in the root, not in out
    expect(linksLeadingOut([x, y, inside, sideways])).toEqual([x, sideways]);
    expect(linksLeadingOut([y, inside])).toEqual([]);
    expect(linksLeadingOut([])).toEqual([]);
  });

  it('asks again without the links left out: a path through one is a plain folder then', () => {
    // With L, M goes through other/p/q and back into out; without L (left out), its .. lead out.
    const L = link('out/L', '../other/p/q');
    const M = link('out/M', 'L/../../../out/f');
    expect(linksLeadingOut([M, L])).toEqual([M, L]);
    expect(linksLeadingOut([M])).toEqual([M]);
  });

  it('checks each link against its own boundary', () => {
    const a = link('a/l', '../b/f', 'a');
    const b = link('b/l', '../a/f', '');
    expect(linksLeadingOut([a, b])).toEqual([a]);
  });
});
