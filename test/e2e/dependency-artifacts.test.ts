/** Two dependencies that save the same file: the later in `depends-on` wins, and the job's log says so. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: a
    commands: ["mkdir -p data && echo fromA > data/same.txt && echo a > data/a.txt && echo same > data/equal.txt"]
    artifacts: [data]
  - name: b
    commands: ["mkdir -p data && echo fromB > data/same.txt && echo same > data/equal.txt"]
    artifacts: [data]
  - name: c
    depends-on: [a, b]
    commands: ["cat data/same.txt data/a.txt"]
`;

describe('dependencies whose artifacts share a path', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  afterAll(() => sb.dispose());

  it('take the later one’s file, and say which files it replaced (not those of equal content)', async () => {
    const r = await sb.dstack(['run', 'c']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('c | fromB\nc | a\n');
    expect(r.stderr).toContain(
      'c | [dstack] artifacts of b replace files an earlier dependency also saved, with other content: ' +
        'data/same.txt (from a) (the later in depends-on wins)\n',
    );
    expect(r.stderr).not.toContain('equal.txt');
  });
});
