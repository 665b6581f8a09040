/**
 * `resources:` into ResourcesConfig. Values stay text: `gpu: ${{ pgpu }}` is only a number
 * once the planner has substituted the run's variables, and it parses them then.
 */
import { yamlBoolean } from '../core/resource-request.js';
import type { ResourcesConfig } from '../core/workflow.js';
import type { WorkflowContext } from './workflow-context.js';
import type { RawResources } from './workflow-schema.js';

export function readResources(ctx: WorkflowContext, raw: RawResources): ResourcesConfig {
  ctx.record('resources');
  const resources: ResourcesConfig = {};
  if (raw.cpu !== undefined) {
    resources.cpu = raw.cpu;
    ctx.record('resources.cpu');
  }
  if (raw.memory !== undefined) {
    resources.memory = raw.memory;
    ctx.record('resources.memory');
  }
  if (typeof raw.gpu === 'string') {
    resources.gpu = { count: raw.gpu };
    ctx.record('resources.gpu');
  } else if (raw.gpu !== undefined) {
    resources.gpu = {};
    // The planner reports a bad count at `resources.gpu`: point it at the count itself.
    ctx.record('resources.gpu', ['resources', 'gpu', ...(raw.gpu.count !== undefined ? ['count'] : [])]);
    for (const key of ['count', 'name', 'memory'] as const) {
      const value = raw.gpu[key];
      if (value === undefined) continue;
      resources.gpu[key] = value;
      ctx.record(`resources.gpu.${key}`);
    }
  }
  if (raw.shm_size !== undefined) {
    resources.shmSize = raw.shm_size;
    ctx.record('resources.shm_size');
  }
  if (raw.interruptible !== undefined) {
    const path = ['resources', 'interruptible'];
    // With variables (`${{ spot }}`), the planner checks it once they are substituted.
    if (!raw.interruptible.includes('$') && yamlBoolean(raw.interruptible) === undefined) {
      ctx.fail(`${ctx.subject(path)} must be true or false, not '${raw.interruptible}'`, path);
    }
    resources.interruptible = raw.interruptible;
    ctx.record('resources.interruptible');
  }
  if (raw.nodes !== undefined) {
    ctx.warn(
      `'resources.nodes' of workflow ${ctx.label} is ignored: dstack runs each job on one machine ` +
        '(a provider that spreads work over machines makes one job per machine)',
      ['resources', 'nodes'],
    );
  }
  return resources;
}
