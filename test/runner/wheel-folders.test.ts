/** The listing of local folders of wheels, as a cached virtualenv's key counts it (wheel-folders.ts). */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wheelListing } from '../../src/runner/wheel-folders.js';

describe('wheelListing', () => {
  let root: string;
  let wheels: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dstack-wheels-'));
    wheels = join(root, 'wheels');
    await mkdir(join(wheels, 'below'), { recursive: true });
    await writeFile(join(wheels, 'a-1.0-py3-none-any.whl'), 'a');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const listing = async (folders = [{ name: 'wheels', path: wheels, byContent: false }]) => {
    const found = await wheelListing(folders);
    if (!('listing' in found)) throw new Error(`not a listing: ${JSON.stringify(found)}`);
    return found.listing;
  };

  it('changes with a wheel added, replaced (its size or time) or removed, and not with what lies below', async () => {
    const before = await listing();
    expect(await listing()).toBe(before);
    await writeFile(join(wheels, 'below', 'c-1.0-py3-none-any.whl'), 'not read by pip');
    expect(await listing()).toBe(before);
    await writeFile(join(wheels, 'b-1.0-py3-none-any.whl'), 'b');
    const added = await listing();
    expect(added).not.toBe(before);
    await writeFile(join(wheels, 'a-1.0-py3-none-any.whl'), 'a2');
    expect(await listing()).not.toBe(added);
    await utimes(join(wheels, 'b-1.0-py3-none-any.whl'), new Date(0), new Date(0));
    expect(await listing()).not.toBe(added);
  });

  it('tells files of a workspace folder by their content, not their times', async () => {
    const folder = [{ name: 'wheels', path: wheels, byContent: true }];
    const before = await listing(folder);
    await utimes(join(wheels, 'a-1.0-py3-none-any.whl'), new Date(0), new Date(0));
    expect(await listing(folder)).toBe(before);
    await writeFile(join(wheels, 'a-1.0-py3-none-any.whl'), 'b');
    expect(await listing(folder)).not.toBe(before);
  });

  it('counts a folder that does not exist as missing, and refuses a file', async () => {
    expect(await listing([{ name: 'none', path: join(root, 'none'), byContent: false }])).toBe('none\0missing');
    const file = join(wheels, 'a-1.0-py3-none-any.whl');
    expect(
      await wheelListing([
        { name: 'wheels', path: wheels, byContent: true },
        { name: 'a-file', path: file, byContent: true },
      ]),
    ).toEqual({ notFolder: 'a-file' });
  });
});
