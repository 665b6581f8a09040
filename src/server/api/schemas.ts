/** zod schemas for every request body and query the API accepts. */
import { posix } from 'node:path';
import { z } from 'zod';
import { reservedArtifact } from '../../core/container-paths.js';
import { IMAGE_REFERENCE_EXPECTED, isImageReference } from '../../core/image-reference.js';
import { JOB_STATUSES } from '../../core/job-status.js';
import { stripCredentials } from '../../core/repos.js';
import {
  LISTED_RUNS_RULE,
  MAX_LISTED_RUNS,
  MAX_PRUNE_AGE_MS,
  MAX_STOP_GRACE_S,
  PRUNE_AGE_RULE,
  STOP_GRACE_RULE,
} from '../../core/request-limits.js';
import { TAG_NAME, TAG_RULE } from '../../core/tags.js';
import { logEntry } from './log-entry-schema.js';
import { manifestFiles } from './manifest-entry-schema.js';

const digest = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');
const name = z.string().min(1).max(200);
const tagName = z.string().regex(TAG_NAME, TAG_RULE);

/**
 * A number a flag sets (core/request-limits.ts), refused with its rule alone whichever check
 * fails: zod's words (`Too big: expected int to be <=9007199254740991`) name no range a user chose.
 * `coerce`: read from a query string.
 */
function bounded(rule: string, min: number, max: number, options: { whole?: boolean; coerce?: boolean } = {}) {
  const message = `expected ${rule}`;
  return (options.coerce ? z.coerce.number(message) : z.number(message)).refine(
    (n) => n >= min && n <= max && (!options.whole || Number.isInteger(n)),
    message,
  );
}

const resources = z.object({
  cpu: z.number().nonnegative(),
  memory: z.number().nonnegative(),
  gpu: z.number().int().nonnegative(),
  gpuName: z.string().optional(),
  gpuMemory: z.number().nonnegative().optional(),
  shmSize: z.number().nonnegative().optional(),
  interruptible: z.boolean().optional(),
});

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the workspace');

export const jobSpec = z.object({
  ref: name,
  workflow: name,
  provider: name,
  image: z.string().refine(isImageReference, IMAGE_REFERENCE_EXPECTED).optional(),
  commands: z.array(z.string()),
  workingDir: relativePath.optional(),
  env: z.record(z.string(), z.string()),
  variables: z.record(z.string(), z.string()),
  // Absolute paths only for jobs in a container (a conda env under /opt, say); never `..`.
  artifacts: z.array(
    z
      .string()
      .min(1)
      .refine((p) => !p.split('/').includes('..'), 'a path without ..'),
  ),
  resources,
  dependsOn: z.array(z.union([z.object({ ref: name }), z.object({ tag: name, workflow: name.optional() })])),
  inputs: z.array(z.string()).optional(),
  params: z.record(z.string(), z.unknown()),
});

const checkedJobSpec = jobSpec.superRefine((spec, ctx) => {
  spec.artifacts.forEach((path, i) => {
    if (!path.startsWith('/')) return;
    // The planner's checks, for a client that skipped them: the runner mounts a folder there.
    const problem =
      spec.image === undefined
        ? 'needs a container (image)'
        : posix.normalize(path) !== path
          ? 'is not normalised (no ., .. or doubled /)'
          : reservedArtifact(path);
    if (problem !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['artifacts', i],
        message: `the absolute artifact path '${path}' ${problem}`,
      });
  });
});

/**
 * A git remote as it is stored, logged and shown: never with the user-info an https URL may
 * hold (`https://alice:TOKEN@host/…`). The message does not repeat the URL, which holds the secret.
 */
export const remoteUrl = z
  .string()
  .refine(
    (remote) => !stripCredentials(remote).stripped,
    "the remote's URL holds credentials (USER:TOKEN@); send it without them, and the token with dstack init --token",
  );

const repo = z.object({
  root: z.string(),
  remote: remoteUrl.optional(),
  branch: z.string().optional(),
  commit: z.string().optional(),
  dirty: z.boolean().optional(),
  subdir: z.string().optional(),
});

export const submitRun = z.object({
  workflow: name,
  overrides: z.record(z.string(), z.string()),
  repo,
  codeDigest: digest,
  jobs: z.array(checkedJobSpec).min(1),
  tag: tagName.optional(),
  noCache: z.boolean().optional(),
});

export const preview = z.object({
  jobs: z.array(checkedJobSpec).min(1),
  // Checked as a submission's code manifest is (code.ts).
  code: z.object({ files: manifestFiles }),
  repo,
});

export const target = z.object({
  target: name,
  abort: z.boolean().optional(),
  grace: bounded(STOP_GRACE_RULE, 0, MAX_STOP_GRACE_S).optional(),
});
/** `dstack resume [--no-tag] TARGET`: noTag drops a run's --tag, taken by another run meanwhile. */
export const resume = z.object({
  target: name,
  noTag: z.boolean().optional(),
});
export const tag = z.object({
  tag: tagName,
  run: name,
});
/** A project key (core/projects.ts): a remote's host and path, or a folder. */
const project = z.string().min(1).max(4096);

export const prune = z.object({
  olderThanMs: bounded(PRUNE_AGE_RULE, 0, MAX_PRUNE_AGE_MS, { whole: true }),
  project: project.optional(),
  dryRun: z.boolean().optional(),
  includeStopped: z.boolean().optional(),
});
export const digests = z.object({ digests: z.array(digest).max(100_000) });

const gpu = z.object({ index: z.number().int().nonnegative(), name: z.string(), memory: z.number().nonnegative() });
export const capacity = z.object({
  cpu: z.number().nonnegative(),
  memory: z.number().nonnegative(),
  gpus: z.array(gpu),
  /** What it can run (core/job-needs.ts); absent from an older runner, which is offered any job. */
  docker: z.boolean().optional(),
  dockerProblem: z.string().min(1).max(1000).optional(),
  python: z.array(z.string().min(1).max(20)).max(100).optional(),
  /** False: it runs no host jobs (--no-host-jobs). */
  host: z.boolean().optional(),
});

/** A runner process's random id; optional, as older runners and Slurm's one-shot runners send none. */
const session = z.string().min(1).max(100).optional();
export const registerRunner = z.object({
  name,
  session,
  /** The session of a crashed process that had this runner's work dir. */
  replaces: session,
  host: z.string(),
  total: capacity,
  jobIds: z.array(z.string()),
});
const waitMs = z.number().int().min(0).max(60_000);
export const claim = z.object({ name, session, jobIds: z.array(z.string()), waitMs });
/** With `total` when what the runner can run changed since it registered (its Docker engine came or went). */
export const heartbeat = z.object({ name, session, jobIds: z.array(z.string()), waitMs, total: capacity.optional() });
export const drainRunner = z.object({ name, session, reason: z.string().min(1).max(200) });
export const leaveRunner = z.object({ name, session });
export const stopOwnJob = z.object({
  reason: z.string().min(1).max(200),
  graceMs: z.number().int().min(0).max(86_400_000),
});

const status = z.enum(JOB_STATUSES);
/**
 * Where a runner may move its job: on through running and saving, to an end. Not back to
 * SUBMITTED (a resume is a user's), nor to STOPPING or ABORTING (a stop is asked, not reported).
 */
const runnerTarget = z.enum(['RUNNING', 'UPLOADING', 'DONE', 'FAILED', 'STOPPED', 'ABORTED']);

export const runnerTransition = z.object({
  from: status,
  to: runnerTarget,
  reason: z.string().optional(),
  exitCode: z.number().int().optional(),
  commandsStarted: z.literal(false).optional(),
});

/**
 * `POST /api/runner/jobs/:id/logs?then=…`: a transition made once the batch is stored (a job's
 * last output and its final status in one request), as URL-encoded JSON of `runnerTransition`.
 */
// `sent`: the runner's clock as it sent the batch, ms (runner-clock.ts).
export const runnerLogsQuery = z.object({ then: z.string().optional(), sent: z.string().optional() });

// One fast check per entry (log-entry-schema.ts): a batch holds up to 100,000 of them.
export const logEntries = z.object({ entries: z.array(logEntry).max(100_000) });

export const artifactManifest = z.object({
  artifacts: z.array(
    z.object({
      // As the job spec names it: absolute for a path in the job's container; its files' paths are relative.
      path: z
        .string()
        .min(1)
        .refine((p) => !p.split('/').includes('..'), 'a path without ..'),
      files: manifestFiles,
    }),
  ),
});

export const logsQuery = z.object({
  target: name,
  since: z.coerce.number().optional(),
  afterSeq: z.coerce.number().int().optional(),
});

/** `mine=1`: only the caller's own, where an admin would see every user's. */
const mine = z.literal('1').optional();

/** `workflow` and `status` narrow the runs before `last` counts them: the dashboard's filters. */
export const runsQuery = z.object({
  last: bounded(LISTED_RUNS_RULE, 1, MAX_LISTED_RUNS, { whole: true, coerce: true }).optional(),
  project: project.optional(),
  workflow: name.optional(),
  status: status.optional(),
  mine,
});

/** `GET /api/workflows`: those of an admin's own runs only, with `mine`. */
export const workflowsQuery = z.object({ mine });

export const projectQuery = z.object({ project: project.optional() });
/** `dstack tags delete TAG [--project KEY] [--user NAME]`: whose tag, for an admin. */
export const tagDeleteQuery = projectQuery.extend({ user: name.optional() });
/** `promised=1`: the unfinished runs a tag is promised to (`dstack run --tag`) too, their `tag` not yet set. */
export const tagsQuery = z.object({ project: project.optional(), mine, promised: z.literal('1').optional() });
