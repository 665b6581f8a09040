/**
 * The planner calls a provider without awaiting it when it answers at once (the built-ins),
 * and awaits it when it returns a promise (custom providers): both ways must give the same
 * jobs and the same errors.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { plan, type ProviderFn, type ProviderJob } from '../../src/core/planner.js';
import type { ProjectConfig, WorkflowConfig } from '../../src/core/workflow.js';

const FILE = '.dstack/workflows.yaml';

function workflow(name: string, line: number, deps: string[] = []): WorkflowConfig {
  return {
    name,
    provider: 'bash',
    commands: ['true'],
    dependsOn: deps.map((workflow) => ({ workflow })),
    artifacts: [],
    resources: {},
    environment: {},
    params: {},
    locations: {},
    location: { file: FILE, line },
  };
}

const config: ProjectConfig = {
  root: '/work/project',
  workflows: [workflow('prepare', 2), workflow('train', 5, ['prepare'])],
  variables: { global: {}, perWorkflow: {}, locations: {} },
  warnings: [],
};

const job = (ref: string): ProviderJob => ({
  ref,
  provider: 'bash',
  commands: ['true'],
  env: {},
  variables: {},
  artifacts: [],
  resources: { cpu: 1, memory: 0, gpu: 0 },
  params: {},
});

const sync: ProviderFn = (wf) => [job(wf.name)];
const async: ProviderFn = (wf) => Promise.resolve([job(wf.name)]);
const failing =
  (wrap: (e: ConfigError) => ProviderJob[] | Promise<ProviderJob[]>): ProviderFn =>
  (wf) => {
    if (wf.name !== 'prepare') return [job(wf.name)];
    return wrap(new ConfigError('no commands', wf.location, 'commands'));
  };

describe('plan with providers that answer at once or later', () => {
  it.each([
    ['at once', sync],
    ['with a promise', async],
  ])('plans the same jobs from a provider that answers %s', async (_, provider) => {
    const planned = await plan(config, { target: 'train', overrides: {} }, provider);
    expect(planned.jobs.map((j) => [j.ref, j.dependsOn])).toEqual([
      ['prepare', []],
      ['train', [{ ref: 'prepare' }]],
    ]);
  });

  it.each([
    [
      'throws',
      failing((e) => {
        throw e;
      }),
    ],
    ['rejects', failing((e) => Promise.reject(e))],
  ])('names the target when the provider of a dependency %s', async (_, provider) => {
    const error = await plan(config, { target: 'train', overrides: {} }, provider).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`${FILE}:2: no commands (planning 'train', which depends on it)`);
  });
});
