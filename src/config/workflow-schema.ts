/**
 * The shape of one `workflows:` item, as zod schemas over plain YAML data (every scalar is
 * its source text, see yaml-source.ts). Only shapes are checked here; meaning (names,
 * `name:tag`, provider defaults) is checked where the item is built, in workflows.ts.
 *
 * Besides the reference format, the later 0.0.x spellings found in real projects are
 * accepted as they are: `deps:`, `env:` as a `NAME=value` list, `- path:` artifacts,
 * `depends-on: {repo, workflows}`, `provider: {repo, name}`; and keys dstack does not support
 * (`triggers`, `ports`, `resources.nodes`) are read so that workflow.ts can warn about them.
 */
import type { z as Z } from 'zod';
import { lazy, zod } from './zod-lib.js';

/** Keys passed to the provider as they are, in `WorkflowConfig.params`. */
export const PARAM_KEYS = [
  'python_script',
  'requirements',
  'python',
  'version',
  'url',
  'output',
  'script',
  'file',
] as const;

function build(z: typeof Z) {
  const text = z.string();
  const texts = z.array(text, { error: 'a list of strings' });

  const gpu = z.union(
    [text, z.strictObject({ count: text.optional(), name: text.optional(), memory: text.optional() })],
    { error: 'a number, or a mapping with count, name and memory' },
  );

  const resources = z.strictObject(
    {
      cpu: text.optional(),
      memory: text.optional(),
      gpu: gpu.optional(),
      shm_size: text.optional(),
      interruptible: text.optional(),
      // Asked for by a distributed custom provider; dstack runs a job on one machine (a warning says so).
      nodes: text.optional(),
    },
    { error: 'a mapping of cpu, memory and gpu' },
  );

  const dependency = z.union([text, z.record(z.string(), text.nullable())], {
    error: "a workflow name, 'name:tag', or a mapping {workflow, tag}",
  });

  const dependencies = z.union(
    [
      z.array(dependency),
      z.strictObject({
        repo: z.strictObject({ include: texts }).optional(),
        workflows: z.array(dependency, { error: 'a list of workflow names' }).nullish(),
      }),
    ],
    { error: 'a list of workflow names' },
  );

  const environment = z.union([z.record(z.string(), text.nullable()), z.array(text)], {
    error: 'a mapping of NAME: value',
  });

  // `mount` (later dstack: save the folder while the job runs) is read only to warn that it is ignored.
  const artifact = z.union([text, z.strictObject({ path: text, mount: text.optional() })], { error: 'a path' });

  /** Provider parameters: a value, or a list of them (`ports: [29500]`). */
  const param = z.union([text, texts], { error: 'a value or a list of values' });

  const params = Object.fromEntries(PARAM_KEYS.map((key) => [key, param.optional()])) as Record<
    (typeof PARAM_KEYS)[number],
    Z.ZodOptional<typeof param>
  >;

  // One workflow item. Key order matters: "did you mean" prefers the earlier key on a tie.
  return z.strictObject(
    {
      name: text,
      provider: z.union([text, z.strictObject({ repo: text, name: text })], { error: 'a provider name' }).optional(),
      image: text.optional(),
      commands: z.array(text, { error: 'a list of strings' }).nullish(),
      'depends-on': dependencies.nullish(),
      artifacts: z.array(artifact, { error: 'a list of paths' }).nullish(),
      resources: resources.nullish(),
      environment: environment.nullish(),
      inputs: texts.nullish(),
      help: text.optional(),
      ...params,
      // Read to warn that it is ignored: dstack opens no ports for a job.
      ports: param.optional(),
      deps: dependencies.nullish(),
      env: environment.nullish(),
      // Read to warn that it is ignored, in any shape (the seed's `repo: {include}`, a CI's `[push]`).
      triggers: z.unknown().optional(),
    },
    { error: "a mapping with a 'name'" },
  );
}

/** The schema of one workflow item, made on first use (see zod-lib.ts). */
export const workflowSchema = lazy(() => build(zod()));

/**
 * The keys workflowSchema knows, without loading zod; a test holds them to the schema's.
 */
export const WORKFLOW_KEYS: readonly string[] = [
  'name',
  'provider',
  'image',
  'commands',
  'depends-on',
  'artifacts',
  'resources',
  'environment',
  'inputs',
  'help',
  ...PARAM_KEYS,
  'ports',
  'deps',
  'env',
  'triggers',
];

export type RawWorkflow = Z.output<ReturnType<typeof build>>;
export type RawResources = NonNullable<RawWorkflow['resources']>;
export type RawDependencies = NonNullable<RawWorkflow['depends-on']>;
export type RawEnvironment = NonNullable<RawWorkflow['environment']>;
