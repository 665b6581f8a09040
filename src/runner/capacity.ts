/** What this machine has: CPU cores, memory, and NVIDIA GPUs (by `nvidia-smi`) when present. */
import { execFile } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { Capacity, GpuInfo } from '../core/resources.js';

const run = promisify(execFile);

/** Parse `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` output (memory in MiB). */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line, index) => {
      const [name = 'GPU', memory = '0'] = line.split(',').map((s) => s.trim());
      return { index, name, memory: Number.parseInt(memory, 10) * 2 ** 20 };
    });
}

export async function detectGpus(): Promise<GpuInfo[]> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], {
      timeout: 10_000,
    });
    return parseNvidiaSmi(stdout);
  } catch {
    return []; // no nvidia-smi, or no driver: no GPUs
  }
}

export async function detectCapacity(overrides: Partial<Capacity> = {}): Promise<Capacity> {
  return {
    cpu: overrides.cpu ?? availableParallelism(),
    memory: overrides.memory ?? totalmem(),
    gpus: overrides.gpus ?? (await detectGpus()),
  };
}
