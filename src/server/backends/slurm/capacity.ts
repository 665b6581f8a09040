/**
 * What the cluster offers dstack's scheduler. The Slurm runner's capacity is the sum of the
 * partition's usable nodes; claim.ts fills up to `queue-depth` rounds of it with jobs only Slurm
 * can run. Each job must also fit one node, which the scheduler's sum cannot tell.
 */
import { formatSize, type Capacity, type GpuInfo, type ResourceRequest } from '../../../core/resources.js';
import type { SlurmNode } from './types.js';

/** Nodes that take no jobs now (down, drained, failing) do not count. */
export function usable(node: SlurmNode): boolean {
  return !/^(down|drain|drng|fail|maint|unk|no_respond|future|inval|reboot|power)/i.test(node.state);
}

export function clusterCapacity(nodes: readonly SlurmNode[]): Capacity {
  const total: Capacity = { cpu: 0, memory: 0, gpus: [] };
  for (const node of nodes.filter(usable)) {
    total.cpu += node.cpus;
    total.memory += node.memory;
    for (const g of node.gpus) {
      for (let i = 0; i < g.count; i++) total.gpus.push(gpu(total.gpus.length, g.type));
    }
  }
  return total;
}

/**
 * The runner's capacity for `depth` rounds of the cluster's: what fits beyond one round waits in
 * Slurm's queue, ready to start the moment a running job ends. GPUs are listed `depth` times
 * (their type kept for `--gres`); Slurm, not dstack, picks the GPUs a job gets.
 */
export function queuedCapacity(total: Capacity, depth: number): Capacity {
  const gpus: GpuInfo[] = [];
  for (let round = 0; round < depth; round++) for (const g of total.gpus) gpus.push({ ...g, index: gpus.length });
  return { ...total, cpu: total.cpu * depth, memory: total.memory * depth, gpus };
}

function gpu(index: number, type: string): GpuInfo {
  // Slurm does not say a GPU's memory: 0 means unknown (a job that asks for GPU memory gets none here).
  return { index, name: type, memory: 0 };
}

/**
 * Why no node of the partition could run this request even with every node back up, or null
 * when one could: a drained or down node comes back, and what it alone could run waits for it.
 */
export function noNodeEverFits(request: ResourceRequest, nodes: readonly SlurmNode[]): string | null {
  return nodes.length === 0 ? null : noneFits(request, nodes);
}

/** A part of a request: what one node may lack. */
export type RequestPart = 'cpu' | 'memory' | 'gpu';

/** Each part of the request that no node of `nodes` has, however many of them are free. */
export function partsNoNodeHas(request: ResourceRequest, nodes: readonly SlurmNode[]): RequestPart[] {
  const has: Record<RequestPart, (n: SlurmNode) => boolean> = {
    cpu: (n) => Math.ceil(request.cpu) <= n.cpus,
    memory: (n) => request.memory <= n.memory,
    gpu: (n) => gpusOf(n, request.gpuName) >= request.gpu,
  };
  return (['cpu', 'memory', 'gpu'] as const).filter((part) => !nodes.some(has[part]));
}

function noneFits(request: ResourceRequest, candidates: readonly SlurmNode[]): string | null {
  const fits = (n: SlurmNode) =>
    Math.ceil(request.cpu) <= n.cpus && request.memory <= n.memory && gpusOf(n, request.gpuName) >= request.gpu;
  if (candidates.some(fits)) return null;
  const most = (f: (n: SlurmNode) => number) => Math.max(...candidates.map(f));
  const what = `${request.gpuName ? `${request.gpuName} ` : ''}GPU${request.gpu === 1 ? '' : 's'}`;
  // Every part no node has, not the first alone: `3 CPUs (the most is 2)` said nothing of 30GB of memory.
  const said: Record<RequestPart, () => string> = {
    cpu: () => `${request.cpu} CPUs (the most is ${most((n) => n.cpus)})`,
    memory: () => `${formatSize(request.memory)} of memory (the most is ${formatSize(most((n) => n.memory))})`,
    gpu: () => `${request.gpu} ${what} (the most is ${most((n) => gpusOf(n, request.gpuName))})`,
  };
  const lacking = partsNoNodeHas(request, candidates).map((part) => said[part]());
  if (lacking.length > 0)
    return `no node has ${lacking.length === 1 ? lacking[0]! : `${lacking.slice(0, -1).join(', ')} and ${lacking.at(-1)!}`}`;
  const parts = [`${request.cpu} CPUs`];
  if (request.memory > 0) parts.push(`${formatSize(request.memory)} of memory`);
  parts.push(`${request.gpu} ${what}`);
  return `no single node has ${parts.join(', ')} at once`;
}

function gpusOf(node: SlurmNode, name: string | undefined): number {
  return node.gpus
    .filter((g) => name === undefined || g.type.toLowerCase().includes(name.toLowerCase()))
    .reduce((sum, g) => sum + g.count, 0);
}
