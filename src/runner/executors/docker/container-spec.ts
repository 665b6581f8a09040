/**
 * What a job's container is created with: its image, the workspace and script mounted, the
 * environment, the limits of its resources, its GPUs, and labels that find it again.
 */
import type Docker from 'dockerode';
import { CONTAINER_DSTACK_DIR } from '../../../core/container-paths.js';
import { CONTAINER_WORKSPACE, type ExecutionRequest } from '../executor.js';
import { scriptOf } from '../process-executor.js';
import { giveBackCommand, type OwnedMount, type Owner } from './ownership.js';

/** Where the job's script is mounted in its container. */
export const CONTAINER_SCRIPT = `${CONTAINER_DSTACK_DIR}/job.sh`;

/**
 * bash when the image has it, as on the host (`-e -o pipefail`); `sh -e` in images without it
 * (busybox, alpine), so that any image with a shell runs a job, with pipefail too where that
 * shell has it (the script's first line: `containerScript`).
 */
const jobShell = (exec: string) =>
  `if command -v bash >/dev/null 2>&1; then ${exec}bash --noprofile --norc -e -o pipefail ${CONTAINER_SCRIPT}; ` +
  `else ${exec}sh -e ${CONTAINER_SCRIPT}; fi`;

/**
 * The container's command: the job's shell in its place, or, with files to give back, beside
 * a shell that gives them back once it ends and exits with its status. A stop's SIGTERM
 * reaches that shell too (tini signals every process): trapped, it waits for the job's shell,
 * as POSIX shells run a trap after the foreground command, and keeps its `$?`.
 */
function entryScript(giveBack: string | undefined): string {
  if (giveBack === undefined) return jobShell('exec ');
  return `trap : TERM INT HUP; ${jobShell('')}; code=$?; ${giveBack}; exit $code`;
}

/**
 * The job's script for its container: pipefail set first, where the shell has it. bash has it
 * from its flags; busybox's and alpine's `sh` have `set -o pipefail` too, and without it
 * `python train.py | tee log` would pass when training crashed. A shell without it (an older
 * dash) goes on as before: the check runs in a subshell, as `set` failing would end the script.
 */
export function containerScript(commands: readonly string[]): string {
  return `if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi\n${scriptOf(commands)}`;
}

/** Labels on every container dstack creates; `dstack.job` names the job. */
/** The label that ties a container to the runner (its work dir) that created it. */
export const WORK_ROOT_LABEL = 'dstack.work-root';
export const JOB_LABEL = 'dstack.job';

export interface ContainerSettings {
  /** Network mode: `host`, `none`, `bridge` or a network's name. */
  network: string;
  /** More labels: the runner's work dir, so that it finds what a crashed predecessor left. */
  labels: Record<string, string>;
  /** Who the job's files go to when its commands end (ownership.ts). */
  giveBackTo?: Owner;
}

/** The folders of a job's that its container writes to: its workspace and the writable mounts. */
export function writableMounts(request: ExecutionRequest): OwnedMount[] {
  const extra = (request.mounts ?? []).filter((m) => m.readOnly !== true);
  return [{ host: request.workspace, container: CONTAINER_WORKSPACE }, ...extra];
}

export function containerOptions(
  request: ExecutionRequest,
  scriptFile: string,
  settings: ContainerSettings,
): Docker.ContainerCreateOptions {
  const mounts: Docker.MountSettings[] = [
    { Type: 'bind', Source: request.workspace, Target: CONTAINER_WORKSPACE },
    { Type: 'bind', Source: scriptFile, Target: CONTAINER_SCRIPT, ReadOnly: true },
    ...(request.mounts ?? []).map((m): Docker.MountSettings => ({
      Type: 'bind',
      Source: m.host,
      Target: m.container,
      ReadOnly: m.readOnly ?? false,
    })),
  ];
  const paths = writableMounts(request).map((m) => m.container);
  const entry = entryScript(settings.giveBackTo && giveBackCommand(settings.giveBackTo, paths));
  const host: Docker.HostConfig = {
    Mounts: mounts,
    NetworkMode: settings.network,
    // tini as PID 1: signals reach the job's processes (a shell as PID 1 ignores SIGTERM), and
    // with TINI_KILL_PROCESS_GROUP the whole group gets them, as on the host.
    Init: true,
  };
  const r = request.resources;
  if (r && r.cpu > 0) host.NanoCpus = Math.round(r.cpu * 1e9);
  if (r && r.memory > 0) {
    host.Memory = Math.round(r.memory);
    host.MemorySwap = host.Memory; // no swap beyond the limit: over it is out of memory
  }
  if (r?.shmSize !== undefined && r.shmSize > 0) host.ShmSize = Math.round(r.shmSize);
  const gpus = request.gpus ?? [];
  if (gpus.length > 0) {
    host.DeviceRequests = [{ Driver: 'nvidia', DeviceIDs: gpus.map(String), Capabilities: [['gpu']] }];
  }
  // The NVIDIA runtime exposes the GPUs NVIDIA_VISIBLE_DEVICES names, and many CUDA images set
  // it to `all`: where that runtime is the default, such an image would see every GPU of the
  // machine, other jobs' too. The assigned ones, or `void` (none), replace the image's.
  const nvidia = gpus.length > 0 ? gpus.map(String).join(',') : 'void';
  const env = { ...request.env, NVIDIA_VISIBLE_DEVICES: nvidia, TINI_KILL_PROCESS_GROUP: '1' };
  return {
    Image: request.image,
    Cmd: ['/bin/sh', '-c', entry],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: CONTAINER_WORKSPACE,
    Labels: { [JOB_LABEL]: request.jobId, ...settings.labels },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: host,
  };
}
