/**
 * A python job in docker builds its virtualenv in a folder mounted writable in its container;
 * what the runner then writes or reads on the host never follows a link the job made there.
 * A package's setup.py (run by pip as root in the container) links the virtualenv's old ready
 * mark, `.dstack-ready`, to a file of the host: that file stays as it was. Requirements that
 * name files of the project (`./evilpkg`, a wheel's path) get a virtualenv of the job's own,
 * never one cached from other code.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWheel } from '../providers/wheel.js';
import { useDockerEnvironment } from './docker-env.js';
import { Sandbox } from './harness.js';

const workflow = (name: string, script: string, requirements: string) => [
  `  - name: ${name}`,
  '    provider: python',
  '    image: python:3.11',
  `    python_script: ${script}`,
  `    requirements: ${requirements}`,
  '    environment:',
  '      PIP_FIND_LINKS: wheels',
  '      PIP_NO_INDEX: "1"',
];

/** A setup.py that, run by pip in the container, links the virtualenv's ready mark to `victim` on the host. */
const evilSetup = (victim: string) =>
  [
    'import os',
    'link = "/opt/dstack/venv/.dstack-ready"',
    'if not os.path.lexists(link):',
    `    os.symlink(${JSON.stringify(victim)}, link)`,
    'from setuptools import setup',
    'setup(name="evilpkg", version="0.1")',
    '',
  ].join('\n');

describe('a python job in docker and links in its virtualenv', () => {
  let sb: Sandbox;
  let restore: () => void;
  let victims: { cached: string; local: string };
  const run = (name: string) => sb.dstack(['run', name, '--no-cache'], { timeoutMs: 180_000 });

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    sb = await Sandbox.create();
    const outside = dirname(sb.root); // a folder of the host no job's container sees
    victims = { cached: join(outside, 'victim-cached'), local: join(outside, 'victim-local') };
    for (const victim of Object.values(victims)) await writeFile(victim, 'precious\n');
    await makeWheel(join(sb.root, 'wheels'));
    await sb.write({
      '.dstack/workflows.yaml': [
        'workflows:',
        ...workflow('evil-by-name', 'main.py', 'by-name.txt'),
        ...workflow('evil-by-path', 'main.py', 'by-path.txt'),
        ...workflow('wheel-by-path', 'greet.py', 'wheel.txt'),
        '',
      ].join('\n'),
      'main.py': 'print("main ran")\n',
      'greet.py': 'import tinypkg\nprint(tinypkg.greet("docker"))\n',
      // An sdist pip finds by name in wheels/: a plain requirement, whose virtualenv is cached.
      'sdist/evilpkg-0.1/setup.py': evilSetup(victims.cached),
      'sdist/evilpkg-0.1/PKG-INFO': 'Metadata-Version: 2.1\nName: evilpkg\nVersion: 0.1\n',
      'by-name.txt': 'evilpkg\n',
      'evilpkg/setup.py': evilSetup(victims.local),
      'by-path.txt': './evilpkg\n',
      'wheel.txt': './wheels/tinypkg-0.1-py3-none-any.whl\n',
    });
    execFileSync('tar', [
      '-czf',
      join(sb.root, 'wheels', 'evilpkg-0.1.tar.gz'),
      '-C',
      join(sb.root, 'sdist'),
      'evilpkg-0.1',
    ]);
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  it('writes nothing through a link to the host that a package made in a cached virtualenv', async () => {
    const first = await run('evil-by-name');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/creating a virtualenv for by-name\.txt/);
    expect(first.stdout).toContain('main ran');
    expect(await readFile(victims.cached, 'utf8')).toBe('precious\n');
    // The link is a file of the virtualenv like any other: the ready mark is elsewhere, and holds.
    const second = await run('evil-by-name');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/reusing the virtualenv for by-name\.txt/);
    expect(await readFile(victims.cached, 'utf8')).toBe('precious\n');
  });

  it('builds a virtualenv of the job alone for a requirement that is a path of the project', async () => {
    const r = await run('evil-by-path');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(victims.local, 'utf8')).toBe('precious\n');
    expect(r.stderr).toContain(
      "by-path.txt refers to local files or the environment ('./evilpkg'): its virtualenv is built for this job alone, not cached",
    );
    expect(r.stdout).toContain('main ran');
    expect((await sb.lastRun()).status).toBe('DONE');
  });

  it('installs the wheel a requirement names as it is now, not as a cached virtualenv has it', async () => {
    const first = await run('wheel-by-path');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('hello docker from tinypkg');
    await makeWheel(join(sb.root, 'wheels'), 'bonjour'); // the same name and requirements text, other code
    const second = await run('wheel-by-path');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('bonjour docker from tinypkg');
  });
});
