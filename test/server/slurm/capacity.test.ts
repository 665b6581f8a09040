/** The cluster's capacity for dstack's scheduler, and the one-node check it cannot make. */
import { describe, expect, it } from 'vitest';
import {
  clusterCapacity,
  noNodeEverFits,
  queuedCapacity,
  usable,
} from '../../../src/server/backends/slurm/capacity.js';
import type { SlurmNode } from '../../../src/server/backends/slurm/types.js';
import type { ResourceRequest } from '../../../src/core/resources.js';

const GB = 1e9;
const node = (name: string, cpus: number, memoryGb: number, gpus: SlurmNode['gpus'], state = 'idle'): SlurmNode => ({
  name,
  cpus,
  memory: memoryGb * GB,
  gpus,
  state,
});
const NODES = [
  node('c1', 8, 32, []),
  node('g1', 16, 64, [{ type: 'a100', count: 2 }]),
  node('g2', 16, 64, [{ type: 'v100', count: 4 }], 'down*'),
];

describe('Slurm capacity', () => {
  it("sums the partition's usable nodes, GPUs named by gres type", () => {
    expect(clusterCapacity(NODES)).toEqual({
      cpu: 24,
      memory: 96 * GB,
      gpus: [
        { index: 0, name: 'a100', memory: 0 },
        { index: 1, name: 'a100', memory: 0 },
      ],
    });
  });

  it('offers the scheduler queue-depth rounds of the cluster, each GPU listed once a round under its own index', () => {
    const once = clusterCapacity(NODES);
    expect(queuedCapacity(once, 1)).toEqual(once);
    expect(queuedCapacity(once, 2)).toEqual({
      cpu: 48,
      memory: 192 * GB,
      gpus: [0, 1, 2, 3].map((index) => ({ index, name: 'a100', memory: 0 })),
    });
  });

  it('accepts a job one node can run, and says why when none can', () => {
    // The nodes up now (g2 is down): those the down node would count for are below.
    const noNodeFits = (request: ResourceRequest, nodes: readonly SlurmNode[]) =>
      noNodeEverFits(request, nodes.filter(usable));
    expect(noNodeFits({ cpu: 16, memory: 64 * GB, gpu: 2, gpuName: 'A100' }, NODES)).toBeNull();
    expect(noNodeFits({ cpu: 17, memory: 0, gpu: 0 }, NODES)).toBe('no node has 17 CPUs (the most is 16)');
    expect(noNodeFits({ cpu: 1, memory: 100 * GB, gpu: 0 }, NODES)).toBe(
      'no node has 100GB of memory (the most is 64GB)',
    );
    expect(noNodeFits({ cpu: 1, memory: 0, gpu: 1, gpuName: 'V100' }, NODES)).toBe(
      'no node has 1 V100 GPU (the most is 0)',
    );
    expect(noNodeFits({ cpu: 9, memory: 0, gpu: 0 }, [node('a', 8, 1, []), node('b', 16, 1, [])])).toBeNull();
    expect(
      noNodeFits({ cpu: 16, memory: 0, gpu: 1 }, [node('a', 16, 1, []), node('b', 4, 1, [{ type: 'gpu', count: 1 }])]),
    ).toBe('no single node has 16 CPUs, 1 GPU at once');
    expect(noNodeFits({ cpu: 1, memory: 0, gpu: 2 }, NODES)).toBeNull();
    expect(noNodeFits({ cpu: 1, memory: 0, gpu: 3 }, NODES)).toBe('no node has 3 GPUs (the most is 2)');
  });

  it('names every part no node has, not the first alone', () => {
    expect(noNodeEverFits({ cpu: 17, memory: 100 * GB, gpu: 0 }, NODES)).toBe(
      'no node has 17 CPUs (the most is 16) and 100GB of memory (the most is 64GB)',
    );
    expect(noNodeEverFits({ cpu: 17, memory: 100 * GB, gpu: 5 }, NODES)).toBe(
      'no node has 17 CPUs (the most is 16), 100GB of memory (the most is 64GB) and 5 GPUs (the most is 4)',
    );
  });

  it('counts down and drained nodes for what the partition could ever run: they come back', () => {
    expect(noNodeEverFits({ cpu: 1, memory: 0, gpu: 1, gpuName: 'V100' }, NODES)).toBeNull();
    expect(noNodeEverFits({ cpu: 1, memory: 0, gpu: 1, gpuName: 'H100' }, NODES)).toBe(
      'no node has 1 H100 GPU (the most is 0)',
    );
    expect(noNodeEverFits({ cpu: 64, memory: 0, gpu: 0 }, NODES)).toBe('no node has 64 CPUs (the most is 16)');
  });
});
