/**
 * `environment:` values that name the environment (`PATH: /opt/tools/bin:$PATH`), as ML
 * projects write them for conda and CUDA: a job on the host gets them expanded from its
 * runner's environment, and finds its shell and its Python through that PATH.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('environment references on the host', () => {
  let sb: Sandbox;
  let tools: string;
  beforeAll(async () => {
    sb = await Sandbox.create();
    tools = join(sb.root, '..', 'tools', 'bin');
    await mkdir(tools, { recursive: true });
    await writeFile(join(tools, 'hello-tool'), '#!/bin/sh\necho tool ran\n', { mode: 0o755 });
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: paths
    commands:
      - hello-tool
      - echo "PATH=$PATH"
      - echo "LIBS=$LIBS"
    environment:
      PATH: ${tools}:$PATH
      LIBS: \${HOME}/lib:5$$
  - name: py
    provider: python
    python_script: main.py
    environment:
      PATH: ${tools}:$PATH
`,
      'main.py': 'import os\nprint("py PATH=" + os.environ["PATH"])\n',
    });
  });
  afterAll(() => sb.dispose());

  it("expands $PATH and ${HOME} from the runner's environment, and $$ to $", async () => {
    const r = await sb.dstack(['run', 'paths']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('tool ran\n');
    expect(r.stdout).toContain(`PATH=${tools}:${process.env['PATH']}\n`);
    expect(r.stdout).toContain(`LIBS=${process.env['HOME']}/lib:5$\n`);
  });

  it('finds Python through the expanded PATH', async () => {
    const r = await sb.dstack(['run', 'py']);
    expect(r.code, r.stderr).toBe(0);
    // (a pyenv python puts its own folder first: the job's PATH follows it)
    expect(r.stdout).toMatch(new RegExp(`py PATH=(.*:)?${tools}:${process.env['PATH']}\n`));
  });
});
