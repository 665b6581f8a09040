/**
 * Planning a valid project of the usual shapes reads its files with js-yaml alone: the full
 * parse (the `yaml` library, which knows positions, ~60 ms to load and run in the CLI) and
 * zod (40 to 70 ms to load) wait for an error or warning that needs them. The spies pass
 * every call through and count it.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { parseVariables, parseVariablesFully } from '../../src/config/variables.js';
import { plan } from '../../src/core/planner.js';
import { fieldsAsJob, yaml } from './helpers.js';

const fullParses = vi.hoisted(() => ({ count: 0 }));
const zodLoads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/config/zod-lib.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/config/zod-lib.js')>();
  return {
    ...original,
    zod: () => {
      zodLoads.count++;
      return original.zod();
    },
  };
});
vi.mock('../../src/config/yaml-source.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/config/yaml-source.js')>();
  return {
    ...original,
    parseYaml: (...args: Parameters<typeof original.parseYaml>) => {
      fullParses.count++;
      return original.parseYaml(...args);
    },
  };
});

const provider = fieldsAsJob;

const WORKFLOWS = yaml(
  'workflows:',
  '  - name: prepare',
  '    commands:',
  '      - mkdir -p data',
  "      - 'echo ${{ size }} > data/size'",
  '    artifacts: [data, ./out/../logs]',
  '  - name: train',
  '    depends-on: [prepare]',
  '    commands: [python train.py]',
  '    artifacts: [checkpoints]',
  '    resources:',
  '      gpu: ${{ gpus }}',
  '      memory: 8GB',
  '    environment:',
  '      PYTHONUNBUFFERED: 1',
);
const VARIABLES = yaml('variables:', '  prepare:', '    size: 10', '  train:', '    gpus: 0');

describe('the full parse of workflows.yaml and variables.yaml', () => {
  beforeEach(() => {
    fullParses.count = 0;
    zodLoads.count = 0;
  });

  it('is not made to plan a valid project with artifacts, dependencies and variables', async () => {
    const { jobs } = await plan(buildProject('/p', WORKFLOWS, VARIABLES), { target: 'train', overrides: {} }, provider);
    expect(jobs.map((j) => j.artifacts)).toEqual([['data', 'logs'], ['checkpoints']]);
    expect(fullParses.count).toBe(0);
    expect(zodLoads.count).toBe(0);
  });

  it('is made when an error needs its line, and points at the field', async () => {
    const bad = WORKFLOWS.replace('./out/../logs', '../logs');
    await expect(
      plan(buildProject('/p', bad, VARIABLES), { target: 'train', overrides: {} }, provider),
    ).rejects.toThrow(/^\.dstack\/workflows\.yaml:6:23: artifact path '\.\.\/logs' of workflow 'prepare' leaves/);
    expect(fullParses.count).toBe(1);
  });
});

describe('the fast read of variables.yaml', () => {
  /** What a read gives, locations read out (they are lazy), or the error's message. */
  const outcome = (read: () => unknown) => {
    try {
      return JSON.parse(JSON.stringify(read())) as unknown;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const files = {
    'values as written': yaml('variables:', '  global:', '    lr: 0.00002', '    zero: 0.0', '    flag: yes'),
    'empty and null values': yaml('variables:', '  train:', '    a:', '    b: ~', '    c: null', '    d: ""'),
    'empty sections': yaml('variables:', '  global:', '  train: {}'),
    'quoted and block values': yaml('variables:', '  train:', "    a: '1'", '    b: |', '      two', '      lines'),
    'no variables at all': yaml('variables:'),
    'a list where a section goes': yaml('variables:', '  train: [1, 2]'),
    'a mapping where a value goes': yaml('variables:', '  train:', '    a: {b: 1}'),
    'another top-level key': yaml('variables:', '  global: {}', 'varaibles: {}'),
    'an alias': yaml('variables:', '  global: &g', '    a: 1', '  train: *g'),
    'a name with a space': yaml('variables:', '  a:', '    x: 1', '    "y z": 2'),
  };

  it.each(Object.entries(files))('reads %s as the full parse does', (_, text) => {
    expect(outcome(() => parseVariables(text))).toEqual(
      outcome(() => parseVariablesFully(text, '.dstack/variables.yaml')),
    );
  });
});
