import { describe, expect, it } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { checkInputsMatch, countedCode, inputMatcher } from '../../src/core/inputs.js';
import { ConfigError } from '../../src/core/errors.js';
import type { ManifestEntry } from '../../src/core/records.js';
import { yaml } from '../config/helpers.js';

const config = buildProject(
  '/p',
  yaml(
    'workflows:',
    '  - name: prepare',
    '    inputs: [src/**/*.py, src, conf/*.yaml]',
    '    commands: [true]',
    '  - name: train',
    '    depends-on: {repo: {include: [train.pyy]}, workflows: [prepare]}',
    '    commands: [true]',
    '  - name: other',
    '    inputs: [nothing/**]',
    '    commands: [true]',
  ),
);
const FILES = ['src/data/load.py', 'src/README.md', '.env', 'train.py'];

describe('inputs', () => {
  it('match paths from the project root, dotfiles included', () => {
    const match = inputMatcher(['src/**/*.py', '.*']);
    expect(FILES.filter(match)).toEqual(['src/data/load.py', '.env']);
  });

  it('count every file under a folder a glob names, as artifacts and .gitignore do', () => {
    const paths = ['src/m.py', 'src/a/b.py', 'srcx/y.py', 'top.py', 'data/x/y/z.csv', 'x.py/inside'];
    const matched = (...globs: string[]) => paths.filter(inputMatcher(globs));
    for (const folder of ['src', 'src/', './src', 'src/*']) expect(matched(folder)).toEqual(['src/m.py', 'src/a/b.py']);
    expect(matched('data/x')).toEqual(['data/x/y/z.csv']);
    expect(matched('s*')).toEqual(['src/m.py', 'src/a/b.py', 'srcx/y.py']);
    // A glob for files matches a folder of that name too: what is in it is counted, never left out.
    expect(matched('*.py')).toEqual(['top.py', 'x.py/inside']);
    expect(matched('src/m')).toEqual([]);
  });

  it("leave out what a '!' glob matches, the last glob that matches a path deciding, as .gitignore does", () => {
    const paths = ['src/m.py', 'src/tests/t.py', 'src/tests/data/d.csv', 'data/a.csv', 'notes.txt', 'train.py'];
    const matched = (...globs: string[]) => paths.filter(inputMatcher(globs));
    // `!data` matched every path but `data` itself, so data/a.csv counted all the same.
    expect(matched('!data')).toEqual(['src/m.py', 'src/tests/t.py', 'src/tests/data/d.csv', 'notes.txt', 'train.py']);
    expect(matched('src', '!src/tests')).toEqual(['src/m.py']);
    expect(matched('**/*.py', '!src/tests/**')).toEqual(['src/m.py', 'train.py']);
    expect(matched('src', '!src/tests', 'src/tests/data')).toEqual(['src/m.py', 'src/tests/data/d.csv']);
    expect(matched('!**/*.csv', 'data')).toEqual(['src/m.py', 'src/tests/t.py', 'data/a.csv', 'notes.txt', 'train.py']);
    // picomatch's own negation stays a glob of its own.
    expect(matched('!(*.txt)')).toEqual([
      'src/m.py',
      'src/tests/t.py',
      'src/tests/data/d.csv',
      'data/a.csv',
      'train.py',
    ]);
  });

  const planned = (names: string[]) => config.workflows.filter((w) => names.includes(w.name));

  it("refuse the first planned workflow's glob that matches no file, where it is written", () => {
    const refusal = (workflows: string[], paths: string[]) => {
      try {
        checkInputsMatch(planned(workflows), paths);
      } catch (e) {
        return e instanceof ConfigError ? [e.message, e.field] : e;
      }
      return undefined;
    };
    const why =
      'matches no file of the project, so the cache would reuse its results whatever happened to the files it ' +
      'was meant to name; correct it or remove it';
    expect(refusal(['prepare', 'train'], FILES)).toEqual([
      `.dstack/workflows.yaml:3:32: input 'conf/*.yaml' of workflow 'prepare' ${why}`,
      'inputs.2',
    ]);
    expect(refusal(['train'], FILES)).toEqual([
      `.dstack/workflows.yaml:6:35: input 'train.pyy' of workflow 'train' ${why}`,
      'inputs.0',
    ]);
  });

  it("leave alone a glob under what a job makes (a dependency's artifacts count through its key)", () => {
    expect(() => checkInputsMatch(planned(['other']), FILES, ['nothing'])).not.toThrow();
    expect(() => checkInputsMatch(planned(['other']), FILES, ['./nothing/deep/'])).not.toThrow();
    expect(() => checkInputsMatch(planned(['other']), FILES, ['no'])).toThrow(
      "input 'nothing/**' of workflow 'other' matches no file of the project",
    );
  });

  it('say nothing of workflows not planned, or when every glob matches', () => {
    expect(() => checkInputsMatch(planned(['other']), ['nothing/x'])).not.toThrow();
    expect(() => checkInputsMatch(planned(['prepare']), [...FILES, 'conf/a.yaml'])).not.toThrow();
  });

  it('count every file and link without globs; with them, what a matching link points at too', () => {
    const file = (path: string): ManifestEntry => ({ path, size: 1, mode: 0o644, digest: `d-${path}` });
    const link = (path: string, to: string): ManifestEntry => ({ path, size: 0, mode: 0o777, link: to });
    const manifest = [
      file('train.py'),
      file('configs/a.yaml'),
      file('configs/b.yaml'),
      link('current.yaml', 'configs/a.yaml'),
      file('raw/v2/part-0'),
      file('raw/v2/part-1'),
      file('raw/v3/part-0'),
      link('data', 'raw/v2'),
      link('loop', 'loop'),
    ];
    const paths = (inputs?: string[]) =>
      countedCode(manifest, inputs)
        .map((f) => f.path)
        .sort();
    expect(paths()).toEqual(manifest.map((f) => f.path).sort());
    expect(paths(['current.yaml'])).toEqual(['configs/a.yaml', 'current.yaml']);
    expect(paths(['configs'])).toEqual(['configs/a.yaml', 'configs/b.yaml']);
    expect(paths(['data', 'loop'])).toEqual(['data', 'loop', 'raw/v2/part-0', 'raw/v2/part-1']);
    expect(countedCode(manifest, ['current.yaml'])).toContainEqual({ path: 'current.yaml', link: 'configs/a.yaml' });
  });

  it("leave dstack's config files out of the default (their effect is in each job's spec), not other .dstack files", () => {
    const file = (path: string): ManifestEntry => ({ path, size: 1, mode: 0o644, digest: `d-${path}` });
    const manifest = ['train.py', '.dstack/workflows.yaml', '.dstack/variables.yaml', '.dstack/providers/mine.mjs'].map(
      file,
    );
    const paths = (inputs?: string[]) =>
      countedCode(manifest, inputs)
        .map((f) => f.path)
        .sort();
    expect(paths()).toEqual(['.dstack/providers/mine.mjs', 'train.py']);
    // Named by a workflow's own globs, they count.
    expect(paths(['.dstack/**'])).toEqual([
      '.dstack/providers/mine.mjs',
      '.dstack/variables.yaml',
      '.dstack/workflows.yaml',
    ]);
  });
});
