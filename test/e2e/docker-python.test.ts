/**
 * The python provider in docker (DSTACK_PYTHON_RUNTIME=docker): the script runs in the
 * python:3.X image the workflow's version names, its requirements in a cached virtualenv.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { makeWheel } from '../providers/wheel.js';
import { useDockerEnvironment } from './docker-env.js';
import { Sandbox } from './harness.js';

describe('the python provider in docker', () => {
  let sb: Sandbox;
  let restore: () => void;
  beforeAll(async () => {
    restore = await useDockerEnvironment({ DSTACK_PYTHON_RUNTIME: 'docker' });
    sb = await Sandbox.create();
    await makeWheel(`${sb.root}/wheels`);
    await sb.write({
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: greet',
        '    provider: python',
        '    python: 3.11',
        '    python_script: main.py',
        '    requirements: requirements.txt',
        '    environment:',
        '      PIP_FIND_LINKS: wheels',
        '      PIP_NO_INDEX: "1"',
        '',
      ].join('\n'),
      'main.py': 'import sys, tinypkg\nprint(tinypkg.greet("docker"), sys.version_info[:2], sys.prefix)\n',
      'requirements.txt': 'tinypkg\n',
    });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  it('runs the script in the python:3.11 image, in a virtualenv it builds once', async () => {
    const first = await sb.dstack(['run', 'greet'], { timeoutMs: 180_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('hello docker from tinypkg (3, 11) /opt/dstack/venv');
    expect(first.stderr).toMatch(/creating a virtualenv for requirements\.txt/);
    const [run] = await sb.json<RunView[]>(['status']);
    expect(run!.jobs[0]!.spec.image).toBeUndefined(); // chosen by the runner, not the plan
    const second = await sb.dstack(['run', 'greet', '--no-cache'], { timeoutMs: 180_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/reusing the virtualenv for requirements\.txt/);
    expect(second.stdout).toContain('hello docker from tinypkg');
  });
});
