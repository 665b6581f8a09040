/**
 * parseWorkflows reads a file with js-yaml first (fast-yaml.ts) and parses it fully with
 * `yaml` only when a location is needed. Both reads must give the same workflows, the same
 * warnings and the same errors: every file here is read both ways and compared.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPlainFast } from '../../src/config/fast-yaml.js';
import { parseFully, parseWorkflows } from '../../src/config/workflows.js';
import { ConfigError } from '../../src/core/errors.js';
import { aliasBomb, yaml } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every `.dstack/workflows.yaml` of the examples, the test fixtures and the corpus of users' files. */
function projectFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(dir, name);
      if (name === '.dstack' && statSync(path).isDirectory()) {
        for (const file of ['workflows.yaml', 'workflows.yml']) {
          if (readdirSync(path).includes(file)) found.push(join(path, file));
        }
      } else if (depth < 5 && statSync(path).isDirectory()) walk(path, depth + 1);
    }
  };
  walk(join(ROOT, 'examples'), 0);
  walk(join(ROOT, 'test'), 0);
  return found.sort();
}

/** What a read gives, with every location read out (they are lazy) and errors as their fields. */
function outcome(read: () => unknown): unknown {
  try {
    return { ok: JSON.parse(JSON.stringify(read())) as unknown };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { error: e.message, location: e.location, field: e.field };
  }
}

function expectSameBothWays(text: string): void {
  expect(outcome(() => parseWorkflows(text))).toEqual(outcome(() => parseFully(text, '.dstack/workflows.yaml')));
}

/** Files the fast read declines or reads as `yaml` does, each compared both ways. */
const EDGES: [string, string][] = [
  ['null, ~ and empty values', yaml('workflows:', '  - name: a', '    commands: [~, null, "", echo]', '    image:')],
  [
    'numbers, booleans and dates as written',
    yaml(
      'workflows:',
      '  - name: a',
      '    python: 3.10',
      '    version: 0x1F',
      '    commands: [1_000, off, 2e-5, 2022-01-01]',
    ),
  ],
  ['a null key', yaml('workflows:', '  - name: a', '    commands: [x]', '    environment:', '      ~: 1')],
  [
    'a key spelled null in quotes',
    yaml('workflows:', '  - name: a', '    commands: [x]', '    environment:', '      "null": 1'),
  ],
  [
    'an explicit complex key',
    yaml('workflows:', '  - name: a', '    commands: [x]', '    environment:', '      ? [a, b]', '      : 1'),
  ],
  ['a flow list as a key', yaml('workflows:', '  - name: a', '    environment:', '      [a, b]: 1')],
  ['anchors and aliases', yaml('base: &cmds [echo a]', 'workflows:', '  - name: a', '    commands: *cmds')],
  [
    'aliases within the list',
    yaml('workflows:', '  - name: a', '    commands: &c [echo a]', '  - name: b', '    commands: *c'),
  ],
  ['a recursive alias', yaml('workflows:', '  - &w', '    name: a', '    commands: [x]', '    help: *w')],
  ['an unknown alias', yaml('workflows:', '  - name: a', '    commands: *nope')],
  ['aliases that expand to a billion values', aliasBomb()],
  ['a duplicate key', yaml('workflows:', '  - name: a', '    name: b')],
  ['keys 1 and 1.0', yaml('workflows:', '  - name: a', '    commands: [x]', '    env:', '      1: a', '      1.0: b')],
  ['two documents', yaml('workflows: []', '---', 'workflows: []')],
  ['a tab as indentation', 'workflows:\n\t- name: a\n'],
  ['tags', yaml('workflows:', '  - name: !!str a', '    commands: [!!int 1]')],
  ['a local tag', yaml('workflows:', '  - name: a', '    commands: [!shell x]')],
  [
    'block scalars',
    yaml(
      'workflows:',
      '  - name: a',
      '    commands:',
      '      - |',
      '        echo a',
      '        echo b',
      '      - >-',
      '        folded',
      '        text',
    ),
  ],
  ['comments and hashes', yaml('workflows: # list', '  - name: a#b', '    commands: ["echo #x", echo y # z]')],
  ['a flow mapping item', yaml('workflows:', '  - {name: a, commands: [x], deps: [{b: latest}]}')],
  ['quoted escapes', yaml('workflows:', '  - name: a', '    commands: ["a\\tb", \'it\'\'s\', "\\u00e9"]')],
  ['an empty file', ''],
  ['only a comment', '# nothing\n'],
  ['an empty workflows list', yaml('workflows:')],
  ['workflows as a mapping', yaml('workflows:', '  a: 1')],
  ['another top-level key', yaml('workflows: []', 'variables: {}')],
  ['a list at the top', yaml('- name: a')],
  ['a syntax error', yaml('workflows:', '  - name: a', '    commands: [x', '  - name: b')],
  ['a bad indentation', yaml('workflows:', '  - name: a', '   commands: [x]')],
  ['an invalid item', yaml('workflows:', '  - name: a', '    commands: [x]', '  - name: b', '    comands: [y]')],
  ['a duplicate workflow', yaml('workflows:', '  - name: a', '    commands: [x]', '  - name: a', '    commands: [y]')],
  [
    'warnings',
    yaml('workflows:', '  - name: a', '    commands: [x]', '    ports: [8080]', '    resources:', '      nodes: 2'),
  ],
  ['a CRLF file', 'workflows:\r\n  - name: a\r\n    commands: [x]\r\n'],
  ['a byte order mark', '\ufeffworkflows:\n  - name: a\n    commands: [x]\n'],
  ['a __proto__ key', yaml('workflows:', '  - name: a', '    commands: [x]', '    env:', '      __proto__: x')],
  ['a multi-line plain scalar', yaml('workflows:', '  - name: a', '    commands:', '      - echo a', '        b')],
  ['a merge key', yaml('base: &b {commands: [x]}', 'workflows:', '  - name: a', '    <<: *b')],
  [
    'a merge key under %YAML 1.1',
    yaml('%YAML 1.1', '---', 'base: &b {commands: [x]}', 'workflows:', '  - name: a', '    <<: *b'),
  ],
  ['a %YAML directive', yaml('%YAML 1.1', '---', 'workflows:', '  - name: a', '    commands: [x]')],
  ['a variable reference before a colon', yaml('workflows:', '  - name: a', '    commands: ["echo ${{ x }}: y"]')],
  [
    'a tag-only dependency',
    yaml('workflows:', '  - name: a', '    commands: [x]', '    depends-on: [":latest", {tag: v1}]'),
  ],
  [
    'a merge key and a heredoc',
    yaml(
      'workflows:',
      '  - &base',
      '    name: a',
      '    commands: ["python - <<EOF", "print(1)", "EOF"]',
      '    resources: {cpu: two}',
      '  - <<: *base',
      '    name: b',
    ),
  ],
];

describe('the fast read of workflows.yaml', () => {
  it.each(projectFiles().map((f) => [f.slice(ROOT.length), f]))('reads %s as the full parse does', (_, file) => {
    expectSameBothWays(readFileSync(file, 'utf8'));
  });

  it.each(EDGES)('reads a file with %s as the full parse does', (_, text) => {
    expectSameBothWays(text);
  });

  it('declines what it could read differently from yaml, leaving it to the full parse', () => {
    expect(readPlainFast('a:\n  ~: 1\n')).toBeUndefined();
    expect(readPlainFast('? [a]\n: 1\n')).toBeUndefined();
    expect(readPlainFast('a: !!int 1\n')).toBeUndefined();
    expect(readPlainFast('a: &x [*x]\n')).toBeUndefined();
    expect(readPlainFast(aliasBomb())).toBeUndefined(); // a walk of a billion values, else
    expect(readPlainFast('a: &x {k: 1}\nb:\n  <<: *x\n')).toBeUndefined(); // js-yaml's failsafe read keeps '<<' as a key
    expect(readPlainFast('a: ["cat <<EOF", x, EOF]\n')).toEqual({ a: ['cat <<EOF', 'x', 'EOF'] });
    expect(readPlainFast('a: [1.0, ~, "x"]\nb:\n')).toEqual({ a: ['1.0', null, 'x'], b: null });
  });

  it('reads a 500-workflow file the same both ways', () => {
    const lines = ['workflows:', '  - name: start', '    commands: ["echo start"]'];
    for (let i = 1; i < 500; i++)
      lines.push(`  - name: j${i}`, '    depends-on: [start]', `    commands: ["echo ${i}"]`);
    expectSameBothWays(lines.join('\n') + '\n');
  });
});
