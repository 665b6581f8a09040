/**
 * The contract of custom providers, one for programs (any language) and JavaScript modules:
 * what dstack gives a provider (`ProviderInput`, a JSON file named by DSTACK_PROVIDER_INPUT)
 * and what it gives back (`ProviderOutput`, written to the file named by DSTACK_PROVIDER_OUTPUT,
 * or returned by `createJobs`). docs/providers.md documents both with examples.
 */
import { z } from 'zod';
import { ENVIRONMENT_NAME_RULE, isEnvironmentName } from '../../core/environment-names.js';
import { IMAGE_REFERENCE_EXPECTED, isImageReference } from '../../core/image-reference.js';
import { closest } from '../../core/suggest.js';
import { DSTACK_ENVIRONMENT } from '../../core/runtime-variables.js';

/** Bumped when a field changes meaning; a provider may check it. */
export const CONTRACT_VERSION = 1;

/** The workflow as a provider sees it: variables substituted, its own parameters in `params`. */
export interface ProviderWorkflow {
  name: string;
  /** Every key of the workflow that dstack does not read itself (`shards: 3` → `{shards: "3"}`), values as written. */
  params: Record<string, unknown>;
  image: string | null;
  commands: string[];
  environment: Record<string, string>;
  artifacts: string[];
  /** cpu (cores), memory and shm_size (bytes), gpu (count), as the workflow asked. */
  resources: { cpu: number; memory: number; gpu: number; gpu_name?: string; shm_size?: number };
  /** `depends-on`, variables substituted: workflow names, `name:tag`, `:tag`. */
  depends_on: string[];
}

export interface ProviderInput {
  version: number;
  provider: { name: string; repo: string | null };
  workflow: ProviderWorkflow;
  /** The workflow's variables after overrides (also in `workflow`'s strings, substituted). */
  variables: Record<string, string>;
  /** The project's git repository, when it is one. */
  repo: { remote?: string; branch?: string; commit?: string; dirty?: boolean };
  /** The project's folder, where the provider runs (a path in its container when it has an image). */
  project_dir: string;
}

/** A size: bytes as a number, or text like `512MB`, `16GB`. */
const size = z.union([z.number().nonnegative(), z.string().min(1)]);

/** One job a provider makes. Only `commands` is required. */
export const providerJobSchema = z.strictObject({
  /** Required when there are several jobs; the job's ref is `<workflow>/<name>`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit')
    .max(100)
    .optional(),
  commands: z.array(z.string()).min(1, 'at least one command'),
  /** Run the commands in this image (in docker); none runs them on the runner's host. */
  image: z.string().refine(isImageReference, IMAGE_REFERENCE_EXPECTED).optional(),
  /** Added to the workflow's environment; names as a workflow's `environment` takes them. */
  environment: z
    .record(z.string(), z.string())
    .superRefine((env, ctx) => {
      const bad = Object.keys(env).find((name) => !isEnvironmentName(name));
      if (bad !== undefined)
        ctx.addIssue({ code: 'custom', message: `variable name '${bad}' is not valid: ${ENVIRONMENT_NAME_RULE}` });
      // The job would get dstack's value in its place, in silence (as a workflow's `environment:` refuses it).
      const kept = Object.keys(env).find((name) => DSTACK_ENVIRONMENT.has(name));
      if (kept !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: `variable '${kept}' is one dstack sets for every job: rename it (a value may name it: $${kept})`,
        });
    })
    .optional(),
  /** The workflow's artifacts when absent. */
  artifacts: z.array(z.string().min(1)).optional(),
  /** Each field the workflow's when absent. */
  resources: z
    .strictObject({
      cpu: z.number().positive().optional(),
      memory: size.optional(),
      gpu: z.number().int().nonnegative().optional(),
      shm_size: size.optional(),
    })
    .optional(),
  /** Names of other jobs of this provider's output that must finish first. */
  depends_on: z.array(z.string()).optional(),
  /** A folder of the workspace to start in. */
  working_dir: z.string().min(1).optional(),
});

export type ProviderJobOutput = z.output<typeof providerJobSchema>;

const outputSchema = z.strictObject({ jobs: z.array(providerJobSchema).min(1, 'at least one job') });

/**
 * Check what a provider gave back: `{ "jobs": [...] }`, or the list alone. Returns the jobs, or
 * the first problem as `field: what` (`jobs.1.commands: expected array, received undefined`).
 */
export function parseProviderOutput(value: unknown): { jobs: ProviderJobOutput[] } | { problem: string } {
  const result = outputSchema.safeParse(Array.isArray(value) ? { jobs: value } : value);
  return result.success ? { jobs: result.data.jobs } : { problem: firstIssue(result.error) };
}

/**
 * The first problem zod found, as `field: what` (`jobs.1.commands: expected array`). An unknown
 * key comes first, with the key meant: `comands` is why `commands` is missing.
 */
export function firstIssue(error: z.ZodError, prefix = ''): string {
  const unknown = error.issues.find((i) => i.code === 'unrecognized_keys');
  const issue = unknown ?? error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? unknownKeys(issue.keys, issue.path)
      : issue.message.replace(/^Invalid input: /, '');
  return path === '' ? message : `${path}: ${message}`;
}

/** The keys a job (`jobs.N`), its `resources` or the output itself may have. */
function keysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(outputSchema.shape);
  if (path.length === 3 && path[2] === 'resources') return ['cpu', 'memory', 'gpu', 'shm_size'];
  return Object.keys(providerJobSchema.shape);
}

function unknownKeys(keys: readonly string[], path: readonly PropertyKey[]): string {
  const key = keys[0] ?? '';
  const valid = keysAt(path);
  const near = closest(key, valid);
  return `unknown key '${key}' (${near === undefined ? `valid keys: ${valid.join(', ')}` : `did you mean '${near}'?`})`;
}
