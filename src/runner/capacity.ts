/** What this machine has: CPU cores, memory, and NVIDIA GPUs (by `nvidia-smi`) when present. */
import { execFile } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { Capacity, GpuInfo } from '../core/resources.js';

const run = promisify(execFile);

/** What nvidia-smi is asked: each GPU's own index (PCI bus order), its UUID, name and memory in MiB. */
export const NVIDIA_SMI_QUERY = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader,nounits'];

/** A GPU as nvidia-smi lists it, with the UUID that CUDA_VISIBLE_DEVICES may name it by. */
export interface DetectedGpu extends GpuInfo {
  uuid: string;
}

/**
 * Parse nvidia-smi's rows (NVIDIA_SMI_QUERY). A GPU's index is its own `index` field, not its
 * line's position, and a line that is not a row (a warning the driver prints) is skipped, so
 * that it shifts no index. Memory nvidia-smi cannot tell (`[N/A]`) counts as 0 bytes.
 */
export function parseNvidiaSmi(output: string): DetectedGpu[] {
  const gpus: DetectedGpu[] = [];
  for (const line of output.split('\n')) {
    const fields = line.split(',').map((s) => s.trim());
    if (fields.length !== 4 || !/^\d+$/.test(fields[0]!)) continue;
    const [index, uuid, name, memory] = fields as [string, string, string, string];
    const mib = /^\d+$/.test(memory) ? Number(memory) : 0;
    gpus.push({ index: Number(index), uuid, name: name || 'GPU', memory: mib * 2 ** 20 });
  }
  return gpus;
}

/**
 * The GPUs a runner whose environment sets CUDA_VISIBLE_DEVICES may offer: those it lists, by
 * index or UUID (`GPU-8a1f…`, a prefix as CUDA takes it), in its order. Unset: all of them; empty
 * or naming none of them (`-1`, `NoDevFiles`): none, as CUDA reads it.
 */
export function visibleToRunner(gpus: readonly DetectedGpu[], variable: string | undefined): DetectedGpu[] {
  if (variable === undefined) return [...gpus];
  const chosen: DetectedGpu[] = [];
  for (const item of variable.split(',').map((s) => s.trim())) {
    const gpu = /^\d+$/.test(item)
      ? gpus.find((g) => g.index === Number(item))
      : item.startsWith('GPU-') || item.startsWith('MIG-')
        ? gpus.find((g) => g.uuid.startsWith(item))
        : undefined;
    // CUDA stops at the first entry it cannot use: the ones after it are not visible either.
    if (gpu === undefined) break;
    if (!chosen.includes(gpu)) chosen.push(gpu);
  }
  return chosen;
}

export interface DetectOptions {
  /** The environment nvidia-smi runs in and whose CUDA_VISIBLE_DEVICES is read (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Told why GPUs could not be listed when nvidia-smi is there but fails (a driver mismatch). */
  warn?: (message: string) => void;
}

/** The NVIDIA GPUs this runner may offer: nvidia-smi's, less those its CUDA_VISIBLE_DEVICES hides. */
export async function detectGpus(options: DetectOptions = {}): Promise<GpuInfo[]> {
  const env = options.env ?? process.env;
  let stdout: string;
  try {
    ({ stdout } = await run('nvidia-smi', NVIDIA_SMI_QUERY, { timeout: 10_000, env }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    // No nvidia-smi: a machine without NVIDIA GPUs, nothing to say.
    if (err.code !== 'ENOENT') {
      const why = err.stderr?.trim() || err.message;
      options.warn?.(`nvidia-smi failed, so this runner offers no GPUs: ${why}`);
    }
    return [];
  }
  return visibleToRunner(parseNvidiaSmi(stdout), env.CUDA_VISIBLE_DEVICES).map(({ index, name, memory }) => ({
    index,
    name,
    memory,
  }));
}

export async function detectCapacity(
  overrides: Partial<Capacity> = {},
  options: DetectOptions = {},
): Promise<Capacity> {
  return {
    cpu: overrides.cpu ?? availableParallelism(),
    memory: overrides.memory ?? totalmem(),
    gpus: overrides.gpus ?? (await detectGpus(options)),
  };
}
