import { describe, expect, it } from 'vitest';
import { cacheKey, codeDigest, stableJson, type CodeFile } from '../../src/core/cache-key.js';
import type { JobSpec } from '../../src/core/job-spec.js';

const CODE = 'a'.repeat(64);

function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    ref: 'finetune-model',
    workflow: 'finetune-model',
    provider: 'docker',
    image: 'tensorflow/tensorflow:1.15.0-py3',
    commands: ['pip3 install -r requirements.txt', 'python3 train.py --model_name 124M'],
    env: { PYTHONPATH: 'src' },
    variables: { model: '124M', batch_size: '1' },
    artifacts: ['checkpoint', 'samples'],
    resources: { cpu: 1, memory: 0, gpu: 0 },
    dependsOn: [{ ref: 'download-model' }],
    params: {},
    ...overrides,
  };
}

const key = (s: JobSpec, deps: string[] = ['k1'], code = CODE) => cacheKey(code, s, deps);

describe('cacheKey', () => {
  it('is the same for the same inputs', () => {
    expect(key(spec())).toBe(key(spec()));
    expect(key(spec())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores resources: the same work on a bigger machine gives the same result', () => {
    expect(key(spec({ resources: { cpu: 8, memory: 64e9, gpu: 2, gpuName: 'A100', gpuMemory: 40e9 } }))).toBe(
      key(spec()),
    );
  });

  it('ignores the job ref', () => {
    expect(key(spec({ ref: 'finetune-model/part-0' }))).toBe(key(spec()));
  });

  it('ignores the order in which env and variables were written', () => {
    const a = spec({ env: { A: '1', B: '2' }, variables: { x: '1', y: '2' } });
    const b = spec({ env: { B: '2', A: '1' }, variables: { y: '2', x: '1' } });
    expect(key(a)).toBe(key(b));
  });

  it('changes with the code', () => {
    expect(key(spec(), ['k1'], 'b'.repeat(64))).not.toBe(key(spec()));
  });

  it('changes with the commands, their order included', () => {
    expect(key(spec({ commands: ['python3 train.py --model_name 345M'] }))).not.toBe(key(spec()));
    expect(key(spec({ commands: [...spec().commands].reverse() }))).not.toBe(key(spec()));
  });

  it('changes with the environment', () => {
    expect(key(spec({ env: { PYTHONPATH: 'lib' } }))).not.toBe(key(spec()));
    expect(key(spec({ env: { PYTHONPATH: 'src', EXTRA: '1' } }))).not.toBe(key(spec()));
  });

  it('changes with the variables', () => {
    expect(key(spec({ variables: { model: '345M', batch_size: '1' } }))).not.toBe(key(spec()));
  });

  it('changes with the image', () => {
    expect(key(spec({ image: 'tensorflow/tensorflow:2.0.0-py3' }))).not.toBe(key(spec()));
    const { image: _image, ...noImage } = spec();
    expect(key(noImage)).not.toBe(key(spec()));
  });

  it('changes with provider parameters', () => {
    expect(key(spec({ params: { python_script: 'a.py' } }))).not.toBe(key(spec({ params: { python_script: 'b.py' } })));
  });

  it('changes with the keys of the dependencies', () => {
    expect(key(spec(), ['k2'])).not.toBe(key(spec(), ['k1']));
    expect(key(spec(), ['k1', 'k2'])).not.toBe(key(spec(), ['k1']));
    expect(key(spec(), [])).not.toBe(key(spec(), ['k1']));
  });
});

describe('codeDigest', () => {
  const files: CodeFile[] = [
    { path: 'train.py', digest: 'd1', mode: 0o644 },
    { path: 'src/model.py', digest: 'd2', mode: 0o644 },
    { path: 'encode.py', digest: 'd3', mode: 0o755 },
  ];

  it('does not depend on the order of the files', () => {
    expect(codeDigest([...files].reverse())).toBe(codeDigest(files));
    expect(codeDigest([files[1]!, files[2]!, files[0]!])).toBe(codeDigest(files));
  });

  it('changes when a file content changes', () => {
    const changed = files.map((f) => (f.path === 'train.py' ? { ...f, digest: 'd1-edited' } : f));
    expect(codeDigest(changed)).not.toBe(codeDigest(files));
  });

  it('changes when a file is added, removed or renamed', () => {
    expect(codeDigest([...files, { path: 'README.md', digest: 'd4', mode: 0o644 }])).not.toBe(codeDigest(files));
    expect(codeDigest(files.slice(1))).not.toBe(codeDigest(files));
    const renamed = files.map((f) => (f.path === 'train.py' ? { ...f, path: 'train2.py' } : f));
    expect(codeDigest(renamed)).not.toBe(codeDigest(files));
  });

  it('changes with the exec bit, and not with other mode bits', () => {
    const exec = files.map((f) => (f.path === 'train.py' ? { ...f, mode: 0o755 } : f));
    expect(codeDigest(exec)).not.toBe(codeDigest(files));
    const groupWritable = files.map((f) => (f.path === 'train.py' ? { ...f, mode: 0o664 } : f));
    expect(codeDigest(groupWritable)).toBe(codeDigest(files));
  });

  it('counts a link by where it points; a project without links keeps the digest it had before links counted', () => {
    expect(codeDigest(files)).toBe('60c2fff6290cd93993971aea5da6532bd0b573822c4ae1d12ac2e30c487f4c0a');
    const linked = (target: string): CodeFile[] => [...files, { path: 'current.yaml', link: target }];
    expect(codeDigest(linked('configs/a.yaml'))).not.toBe(codeDigest(files));
    expect(codeDigest(linked('configs/b.yaml'))).not.toBe(codeDigest(linked('configs/a.yaml')));
    expect(codeDigest(linked('configs/a.yaml'))).toBe(codeDigest(linked('configs/a.yaml')));
  });

  it('does not mix up path and content', () => {
    expect(codeDigest([{ path: 'ab', digest: 'c', mode: 0o644 }])).not.toBe(
      codeDigest([{ path: 'a', digest: 'bc', mode: 0o644 }]),
    );
  });
});

describe('stableJson', () => {
  it('writes the same text whatever the key order, at every depth', () => {
    const a = { b: 1, a: { d: [{ y: 1, x: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [{ x: 2, y: 1 }] }, b: 1 };
    expect(stableJson(a)).toBe(stableJson(b));
    expect(stableJson(a)).toBe('{"a":{"c":"x","d":[{"x":2,"y":1}]},"b":1}');
  });

  it('keeps the order of arrays', () => {
    expect(stableJson([2, 1])).not.toBe(stableJson([1, 2]));
  });

  it('writes scalars and null as JSON does', () => {
    expect(stableJson(null)).toBe('null');
    expect(stableJson('x')).toBe('"x"');
    expect(stableJson({ n: null, t: true })).toBe('{"n":null,"t":true}');
  });
});
