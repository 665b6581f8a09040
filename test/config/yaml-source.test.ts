import { describe, expect, it } from 'vitest';
import { describe as describeValue, locate, parseYaml, toPlain } from '../../src/config/yaml-source.js';
import { configError } from './helpers.js';

describe('yaml-source', () => {
  it('reads every scalar as its source text', () => {
    const src = parseYaml('a: 3.10\nb: 0x1F\nc: 1_000\nd: "q"\ne: ~\nf:\ng: |\n  x\n  y\nh: [1.50, off]\n', 'f.yaml');
    expect(toPlain(src, src.doc.contents)).toEqual({
      a: '3.10',
      b: '0x1F',
      c: '1_000',
      d: 'q',
      e: null,
      f: null,
      g: 'x\ny\n',
      h: ['1.50', 'off'],
    });
  });

  it('follows aliases', () => {
    const src = parseYaml('base: &img ubuntu:22.04\nimage: *img\n', 'f.yaml');
    expect(toPlain(src, src.doc.contents)).toEqual({ base: 'ubuntu:22.04', image: 'ubuntu:22.04' });
  });

  it('locates a value, a collection by its key, and a missing path by its container', () => {
    const src = parseYaml('a:\n  b: 1\n  c:\n    - x\n', 'f.yaml');
    expect(locate(src, ['a', 'b'])).toEqual({ file: 'f.yaml', line: 2, column: 6 });
    expect(locate(src, ['a', 'c'])).toEqual({ file: 'f.yaml', line: 3, column: 3 });
    expect(locate(src, ['a', 'c', 0])).toEqual({ file: 'f.yaml', line: 4, column: 7 });
    expect(locate(src, ['a', 'zzz'])).toEqual({ file: 'f.yaml', line: 2, column: 3 });
  });

  it('describes values for messages', () => {
    const src = parseYaml('a: {x: 1}\nb: [1]\nc: some text\nd:\n', 'f.yaml');
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => describeValue(src, [k]))).toEqual([
      'a mapping',
      'a list',
      "a single value ('some text')",
      'empty',
      'missing',
    ]);
  });

  it('merges what a merge key names, as PyYAML (and the dstack of 2021-2022) read it, own keys first', () => {
    const text = [
      'base: &base {cpu: "1", memory: 1GB, env: {A: "1"}}',
      'gpu: &gpu {gpu: "1", cpu: "8"}',
      'one: {<<: *base, cpu: "2"}',
      'two:',
      '  cpu: "4"',
      '  <<: [*gpu, *base]',
      "quoted: {'<<': x}",
      '',
    ].join('\n');
    const src = parseYaml(text, 'f.yaml');
    const plain = toPlain(src, src.doc.contents) as Record<string, unknown>;
    expect(plain['one']).toEqual({ cpu: '2', memory: '1GB', env: { A: '1' } });
    // Of several mappings, the first's keys win; the mapping's own win over all.
    expect(plain['two']).toEqual({ cpu: '4', gpu: '1', memory: '1GB', env: { A: '1' } });
    expect(plain['quoted']).toEqual({ '<<': 'x' });
    // A merged value is located where it was written.
    expect(locate(src, ['one', 'memory'])).toEqual({ file: 'f.yaml', line: 1, column: 32 });
    expect(locate(src, ['two', 'gpu'])).toEqual({ file: 'f.yaml', line: 2, column: 17 });
    expect(locate(src, ['one', 'cpu'])).toEqual({ file: 'f.yaml', line: 3, column: 23 });
  });

  it('refuses a merge key that names no mapping', () => {
    const error = (text: string) =>
      configError(() => {
        const src = parseYaml(text, 'f.yaml');
        toPlain(src, src.doc.contents);
      }).message;
    const why = "'<<' merges a mapping into this one: give it an alias of a mapping (<<: *base), or a list of them";
    expect(error('a: &a [1]\nb:\n  <<: *a\n')).toBe(`f.yaml:3:7: ${why}`);
    expect(error('a: &a {k: 1}\nb:\n  <<: [*a, 3]\n')).toBe(`f.yaml:3:12: ${why}`);
    expect(error('b:\n  <<: *nope\n')).toBe("f.yaml:2:7: unknown alias '*nope'");
  });

  it('reports more than one document', () => {
    expect(configError(() => parseYaml('a: 1\n---\nb: 2\n', 'f.yaml')).message).toBe(
      'f.yaml:2:1: the file holds more than one YAML document (---); put everything in one',
    );
  });

  it('reports a list used as a mapping key', () => {
    expect(
      configError(() => {
        const src = parseYaml('? [a]\n: 1\n', 'f.yaml');
        toPlain(src, src.doc.contents);
      }).message,
    ).toBe('f.yaml:1:3: a mapping key must be a single value, not a list or mapping');
  });

  it('names a quote that is never closed where it opens, not at the end of the file', () => {
    const error = (text: string) => configError(() => parseYaml(text, 'f.yaml')).message;
    // `: ` inside an unquoted command ends a key, so the quote after it starts a new value.
    const command = `workflows:\n  - name: a\n    commands:\n      - for f in a b; do printf '%s: ' "$f"; done\n  - name: b\n    commands: [echo b]\n`;
    expect(error(command)).toBe(
      "f.yaml:4:38: this single quote is never closed: the ': ' before it ends a key in YAML, so the quote began " +
        'a new value; put the whole value in quotes (a command in double quotes, say)',
    );
    expect(error('a: "open\nb: c\n')).toBe('f.yaml:1:4: this double quote is never closed');
    expect(error('steps: ["echo \\"hi]\n')).toBe('f.yaml:1:9: this double quote is never closed');
  });

  it('says why an unquoted ${{ }} inside [...] or {...} is a syntax error, and how to quote it', () => {
    const error = (text: string) => configError(() => parseYaml(text, 'f.yaml')).message;
    const how = "'${{' inside [...] or {...} starts a YAML mapping there, not text: put the value in quotes";
    expect(error('workflows:\n  - name: a\n    artifacts: [out/${{ sub }}]\n')).toBe(
      `f.yaml:3:21: ${how} ("out/\${{ sub }}"), or write the list one item a line (- out/\${{ sub }})`,
    );
    expect(error('a:\n  depends-on: [prepare, train:${{ tag }}]\n')).toBe(
      `f.yaml:2:31: ${how} ("train:\${{ tag }}"), or write the list one item a line (- train:\${{ tag }})`,
    );
    expect(error('a:\n  commands: [echo "${{ x }}" done]\n')).toBe(
      `f.yaml:2:20: ${how} ('echo "\${{ x }}" done'), or write the list one item a line (- echo "\${{ x }}" done)`,
    );
    expect(error('a:\n  resources: {cpu: 1, memory: ${{ mem }}}\n')).toBe(
      `f.yaml:2:31: ${how} (memory: "\${{ mem }}"), or write the mapping one key a line (memory: \${{ mem }})`,
    );
    // `${name}` too, and the item runs on past other references to its end.
    expect(error('a:\n  commands: [echo ${learning-rate} ${{ b }} c, ls]\n')).toBe(
      "f.yaml:2:19: '${' inside [...] or {...} starts a YAML mapping there, not text: put the value in quotes " +
        '("echo ${learning-rate} ${{ b }} c"), or write the list one item a line (- echo ${learning-rate} ${{ b }} c)',
    );
    // Outside brackets a ${{ }} is plain text, as it always was.
    expect(parseYaml('a:\n  - out/${{ sub }}\nb: ${{ c }}\n', 'f.yaml').doc.errors).toEqual([]);
  });

  it('names a bracket never closed where it opens, and a key indented under a value, in plain words', () => {
    const error = (text: string) => configError(() => parseYaml(text, 'f.yaml')).message;
    // yaml: `Flow sequence in block collection must be sufficiently indented and end with a ]`, at the end.
    expect(error('variables:\n  train:\n    lr: [0.1\n')).toBe(
      "f.yaml:3:9: this [ is never closed: end the list with ], or write it one item a line ('- item')",
    );
    expect(error('w:\n  - name: a\n    resources: {cpu: 1\n  - name: b\n')).toBe(
      'f.yaml:3:16: this { is never closed: end the mapping with }, or write it one key a line',
    );
    expect(error('a: [1, [2, 3]\nb: 1\n')).toBe(
      "f.yaml:1:4: this [ is never closed: end the list with ], or write it one item a line ('- item')",
    );
    // yaml: `Nested mappings are not allowed in compact mappings`, at the value above.
    expect(error('w:\n  - name: a\n    commands: echo\n      image: x\n')).toBe(
      "f.yaml:4:7: this key is indented more than 'commands' above it, so YAML reads it as part of that key's " +
        "value: start it at the column of 'commands'",
    );
  });

  it('names a misindented line at its first character, in plain words', () => {
    const error = (text: string) => configError(() => parseYaml(text, 'f.yaml')).message;
    expect(error('steps:\n  - name: a\n    run:\n      - echo hi\n     - echo bad\n')).toBe(
      'f.yaml:5:6: this list item is indented differently from the items above it',
    );
    expect(error('steps:\n  - name: a\n    run:\n      - echo hi\n  keep: [x]\n')).toBe(
      'f.yaml:5:3: this key is indented differently from the keys above it (the keys of one mapping start at the same column)',
    );
    expect(error('steps:\n  - name: a\n   run: x\n')).toBe(
      "f.yaml:3:4: this line is indented as a list's item but has no '- '",
    );
    expect(error('steps:\n\t- name: a\n')).toBe('f.yaml:2:1: Tabs are not allowed as indentation');
  });
});
