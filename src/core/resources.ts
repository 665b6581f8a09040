/** Resource requests and runner capacity: parsing sizes and deciding what fits. */

/** What a job asks for. Memory in bytes. */
export interface ResourceRequest {
  cpu: number;
  memory: number;
  gpu: number;
  gpuName?: string;
  gpuMemory?: number;
  shmSize?: number;
}

/** What a runner has (or has free). GPUs by index, so jobs get specific devices. */
export interface Capacity {
  cpu: number;
  memory: number;
  gpus: GpuInfo[];
  /**
   * Whether a Docker engine answers the runner (jobs with an image need one; core/job-needs.ts).
   * Absent: not told (an older runner, Slurm's), and any job is offered to it.
   */
  docker?: boolean;
  /**
   * Why no Docker engine answers, when `docker` is false: `none answers at /var/run/docker.sock
   * (permission denied): …`, for the embedded server's failure of a job with an image. Absent
   * from an older runner.
   */
  dockerProblem?: string;
  /**
   * The Pythons its python jobs without an image can name: `3` (its `python3`) and `3.X` (its
   * `python3.X`), or `docker` when it runs them in `python:3.X` images. Absent: not told.
   */
  python?: string[];
  /**
   * False: the runner runs no host jobs (`dstack runner start --no-host-jobs`), only jobs in
   * containers; curl's downloads are host jobs (core/job-needs.ts runsOnHost). Absent: it runs them (an
   * older runner, or one without the flag).
   */
  host?: boolean;
}

export interface GpuInfo {
  index: number;
  name: string;
  /** Bytes. */
  memory: number;
}

/** A job that says nothing reserves one CPU slot, so a runner runs as many at once as it has cores. */
export const DEFAULT_REQUEST: ResourceRequest = { cpu: 1, memory: 0, gpu: 0 };

const UNITS: Record<string, number> = {
  '': 1e6, // a bare number is megabytes
  B: 1,
  K: 1e3,
  KB: 1e3,
  M: 1e6,
  MB: 1e6,
  G: 1e9,
  GB: 1e9,
  T: 1e12,
  TB: 1e12,
  KI: 2 ** 10,
  KIB: 2 ** 10,
  MI: 2 ** 20,
  MIB: 2 ** 20,
  GI: 2 ** 30,
  GIB: 2 ** 30,
  TI: 2 ** 40,
  TIB: 2 ** 40,
};

/**
 * The least memory a job may ask for: Docker's minimum (`Minimum memory limit allowed is
 * 6MB`, 6MiB), and less than any job's process needs on a host. A smaller request is a unit
 * mistaken (`memory: 3` is 3MB), refused when planning rather than by Docker at run time.
 */
export const MIN_JOB_MEMORY = 6 * 2 ** 20;

/** `32GB` → bytes (decimal units; `GiB` binary); a bare number is megabytes. Null when unreadable. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) return null;
  const unit = UNITS[(m[2] ?? '').toUpperCase()];
  if (unit === undefined) return null;
  return Math.round(Number(m[1]) * unit);
}

/** `1 file`, `3 files`: a count and its noun, for messages. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `n files, SIZE` (and `, m empty folders` when there are some), as the runner's notes say what moved. */
export function filesAndSize(files: number, bytes: number, folders = 0): string {
  return `${plural(files, 'file')}, ${formatSize(bytes)}${folders > 0 ? `, ${plural(folders, 'empty folder')}` : ''}`;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return i === 0 ? `${value}B` : `${value.toFixed(value < 10 ? 1 : 0)}${units[i]}`;
}

/** GPUs of `free` that satisfy the request, or null when the request does not fit. */
export function fit(request: ResourceRequest, free: Capacity): GpuInfo[] | null {
  if (request.cpu > free.cpu || request.memory > free.memory) return null;
  const gpus = free.gpus.filter(
    (g) =>
      (request.gpuName === undefined || g.name.toLowerCase().includes(request.gpuName.toLowerCase())) &&
      (request.gpuMemory === undefined || g.memory >= request.gpuMemory),
  );
  if (gpus.length < request.gpu) return null;
  return gpus.slice(0, request.gpu);
}

/**
 * Why a request could never fit a runner of this total capacity (every part it lacks:
 * `512 CPUs and 2.0TB of memory`), or null when it could.
 */
export function neverFits(request: ResourceRequest, total: Capacity): string | null {
  const lacking: string[] = [];
  if (request.cpu > total.cpu) lacking.push(`${request.cpu} CPUs`);
  if (request.memory > total.memory) lacking.push(`${formatSize(request.memory)} of memory`);
  if (fit({ ...request, cpu: 0, memory: 0 }, { ...total, cpu: 0, memory: 0 }) === null) {
    const what = request.gpuName ? `${request.gpuName} GPU` : 'GPU';
    const memory = request.gpuMemory === undefined ? '' : ` with ${formatSize(request.gpuMemory)} of memory`;
    lacking.push(`${plural(request.gpu, what)}${memory}`);
  }
  if (lacking.length === 0) return null;
  return lacking.length === 1 ? lacking[0]! : `${lacking.slice(0, -1).join(', ')} and ${lacking.at(-1)}`;
}

export function subtract(free: Capacity, request: ResourceRequest, gpus: readonly GpuInfo[]): Capacity {
  const taken = new Set(gpus.map((g) => g.index));
  return {
    cpu: free.cpu - request.cpu,
    memory: free.memory - request.memory,
    gpus: free.gpus.filter((g) => !taken.has(g.index)),
  };
}
