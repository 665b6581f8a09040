import { describe, expect, it } from 'vitest';
import { simpleWorkflow } from '../../src/config/simple-workflow.js';
import { WORKFLOW_KEYS, workflowSchema } from '../../src/config/workflow-schema.js';
import type { Plain } from '../../src/config/yaml-source.js';

describe('simpleWorkflow', () => {
  const simple: [string, Plain][] = [
    ['a name and commands', { name: 'a', commands: ['echo a'] }],
    ['every key it knows', { name: 'a', provider: 'bash', image: 'x', help: 'h', commands: [], 'depends-on': ['b'] }],
    ['deps and depends-on together (workflow.ts refuses the pair)', { name: 'a', deps: ['b'], 'depends-on': [] }],
    ['an empty name (workflow.ts refuses it)', { name: '' }],
    ['artifacts and inputs', { name: 'a', artifacts: ['data', 'model'], inputs: ['src/'] }],
    ['resources', { name: 'a', resources: { cpu: '2', memory: '8GB', gpu: '1', shm_size: '1GB' } }],
    ['a gpu mapping', { name: 'a', resources: { gpu: { count: '2', name: 'A100', memory: '40GB' } } }],
    ['an environment mapping with an empty value', { name: 'a', environment: { A: '1', B: null } }],
    ['an env list', { name: 'a', env: ['A=1'] }],
    ['provider parameters', { name: 'a', provider: 'python', python_script: 'train.py', requirements: 'r.txt' }],
    ['a parameter list', { name: 'a', file: ['a', 'b'] }],
  ];

  it.each(simple)('takes %s as zod would', (_, plain) => {
    expect(simpleWorkflow(plain)).toEqual(workflowSchema().parse(plain));
  });

  const others: [string, Plain][] = [
    ['no name', { commands: ['x'] }],
    ['a null list', { name: 'a', commands: null }],
    ['a list holding a mapping', { name: 'a', 'depends-on': [{ b: 'latest' }] }],
    ['a provider from a repository', { name: 'a', provider: { repo: 'r', name: 'p' } }],
    ['an unknown resource', { name: 'a', resources: { gpus: '1' } }],
    ['a gpu mapping with an unknown key', { name: 'a', resources: { gpu: { cont: '1' } } }],
    ['null resources', { name: 'a', resources: null }],
    ['artifacts as mappings', { name: 'a', artifacts: [{ path: 'data' }] }],
    ['an environment value that is a list', { name: 'a', environment: { A: ['1'] } }],
    ['ports (warned about)', { name: 'a', ports: ['29500'] }],
    ['an unknown key', { name: 'a', comands: ['x'] }],
    ['a list', [{ name: 'a' }]],
    ['nothing', null],
  ];

  it.each(others)('leaves an item with %s to zod', (_, plain) => {
    expect(simpleWorkflow(plain)).toBeUndefined();
  });

  it("knows workflowSchema's keys, in its order, without loading zod", () => {
    expect(WORKFLOW_KEYS).toEqual(Object.keys(workflowSchema().shape));
  });
});
