/**
 * Where a job's commands run: on the runner's host, or in a container of an image with the
 * job's limits, GPUs and absolute artifact paths. Providers' launchers start commands through it.
 */
import type { Assignment } from '../core/api.js';
import { InvalidError } from '../core/errors.js';
import { HOST_JOB_REFUSED } from '../core/job-needs.js';
import { shellQuote } from '../core/variables.js';
import { containerMounts, containerRoot } from './container-root.js';
import type { Execution, Executor, Mount, OnOutput, WhenDrained } from './executors/executor.js';
import { dockerExecutorFor } from './executors/select.js';
import { jobEnvironment } from './job-environment.js';

/** What a job's launcher is given by the job run. */
export interface LaunchContext {
  assignment: Assignment;
  /** The job's workspace on the runner. */
  workspace: string;
  workRoot: string;
  /** The runner's host executor. */
  hostExecutor: Executor;
  /** False: the runner runs no host jobs (--no-host-jobs), and a start on its host throws instead. */
  hostJobs?: boolean;
  /** The runner's environment, passed on to host jobs. */
  baseEnv: Record<string, string>;
  onOutput: OnOutput;
  whenDrained?: WhenDrained;
  /** A line of dstack's own in the job's log. */
  note: (text: string) => void;
  /** Aborted when the job is stopped or aborted while it is still being prepared. */
  signal: AbortSignal;
  /** Told when a cached virtualenv has been built: the runner's cache may now be over its limits. */
  venvBuilt?: () => void;
}

export interface JobTarget {
  /** Whether the commands run in a container (paths and environment differ there). */
  readonly image: string | undefined;
  /** Start commands there; `step` names a step before the job's own (a virtualenv's setup). */
  start(
    commands: string[],
    options?: { step?: string; mounts?: Mount[]; env?: Record<string, string> },
  ): Promise<Execution>;
}

export function jobTarget(ctx: LaunchContext, image: string | undefined): JobTarget {
  const { assignment } = ctx;
  const spec = assignment.job.spec;
  const where = image === undefined ? 'host' : 'container';
  const { env, exports } = jobEnvironment(assignment, ctx.baseEnv, where);
  // A provider's job may name a folder of the workspace to start in.
  const cd = spec.workingDir !== undefined ? [`cd -- ${shellQuote(spec.workingDir)}`] : [];
  return {
    image,
    async start(commands, options = {}) {
      // JobRun refuses such a job before its workspace is made; this holds for any launcher.
      if (image === undefined && ctx.hostJobs === false) throw new InvalidError(HOST_JOB_REFUSED);
      const executor = image === undefined ? ctx.hostExecutor : dockerExecutorFor(ctx.workRoot);
      const jobId = options.step === undefined ? assignment.job.id : `${assignment.job.id}-${options.step}`;
      return executor.start({
        jobId,
        workspace: ctx.workspace,
        commands: [...exports, ...(options.step === undefined ? cd : []), ...commands],
        env: { ...env, ...options.env },
        onOutput: ctx.onOutput,
        ...(ctx.whenDrained ? { whenDrained: ctx.whenDrained } : {}),
        onNote: ctx.note,
        signal: ctx.signal,
        ...(image === undefined
          ? {}
          : {
              image,
              // A long-lived runner's spawner helper ends the container should this process die.
              ...(ctx.hostExecutor.containerGuard ? { guard: ctx.hostExecutor.containerGuard } : {}),
              resources: spec.resources,
              gpus: (assignment.job.gpus ?? []).map((g) => g.index),
              mounts: [
                ...containerMounts(assignment, containerRoot(ctx.workRoot, assignment.job.id)),
                ...(options.mounts ?? []),
              ],
            }),
      });
    },
  };
}
