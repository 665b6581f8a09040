/** File names a job on Linux may write: a backslash is part of a name, in artifacts and in code alike. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: odd
    commands:
      - mkdir -p out/sub
      - echo good > out/good.txt
      - echo weird > 'out/..\\weird.txt'
      - echo back > 'out/sub/back\\slash.txt'
    artifacts: [out]
  - name: use
    depends-on: [odd]
    commands:
      - find out -type f | LC_ALL=C sort
      - cat 'out/..\\weird.txt' 'code\\file.txt'
`;

describe('names with a backslash', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS, 'code\\file.txt': 'code\n' });
  });
  afterAll(() => sb.dispose());

  it('reach a dependent job and an artifacts download as they were written', async () => {
    const r = await sb.dstack(['run', 'use']);
    expect(r.stderr).not.toContain('leaves its folder');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      ['out/..\\weird.txt', 'out/good.txt', 'out/sub/back\\slash.txt', 'weird', 'code']
        .map((l) => `use | ${l}\n`)
        .join(''),
    );
    const run = (await sb.json<RunView[]>(['status', '--last', '1']))[0]!;
    const out = join(sb.root, '..', 'odd-out');
    expect((await sb.dstack(['artifacts', run.jobs[0]!.id, '-o', out])).code).toBe(0);
    expect(await readFile(join(out, 'out', '..\\weird.txt'), 'utf8')).toBe('weird\n');
    expect(await readFile(join(out, 'out', 'sub', 'back\\slash.txt'), 'utf8')).toBe('back\n');
  });
});
