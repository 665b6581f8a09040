import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REQUEST,
  fit,
  formatSize,
  neverFits,
  parseSize,
  subtract,
  type Capacity,
  type GpuInfo,
  type ResourceRequest,
} from '../../src/core/resources.js';

const GB = 1e9;
const GiB = 2 ** 30;

function gpu(index: number, name: string, memoryGiB: number): GpuInfo {
  return { index, name, memory: memoryGiB * GiB };
}

function request(r: Partial<ResourceRequest>): ResourceRequest {
  return { ...DEFAULT_REQUEST, ...r };
}

/** 16 CPUs, 64GB, two 40GiB A100s and one 16GiB V100. */
const runner: Capacity = {
  cpu: 16,
  memory: 64 * GB,
  gpus: [gpu(0, 'NVIDIA A100-SXM4-40GB', 40), gpu(1, 'Tesla V100-PCIE-16GB', 16), gpu(2, 'NVIDIA A100-SXM4-40GB', 40)],
};

describe('parseSize', () => {
  it('reads decimal units', () => {
    expect(parseSize('32GB')).toBe(32 * GB);
    expect(parseSize('512MB')).toBe(512e6);
    expect(parseSize('1TB')).toBe(1e12);
    expect(parseSize('10KB')).toBe(10_000);
    expect(parseSize('100B')).toBe(100);
  });

  it('reads binary units', () => {
    expect(parseSize('16GiB')).toBe(16 * GiB);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('1TiB')).toBe(2 ** 40);
  });

  it('takes a bare number as megabytes', () => {
    expect(parseSize('512')).toBe(512e6);
    expect(parseSize('0')).toBe(0);
  });

  it('ignores case, spaces and accepts short units and fractions', () => {
    expect(parseSize('32gb')).toBe(32 * GB);
    expect(parseSize(' 32 GB ')).toBe(32 * GB);
    expect(parseSize('4G')).toBe(4 * GB);
    expect(parseSize('1.5GB')).toBe(1.5 * GB);
    expect(parseSize('2Gi')).toBe(2 * GiB);
  });

  it('returns null for anything unreadable', () => {
    for (const bad of ['', 'GB', 'lots', '32 XB', '-1GB', '1e3', '1,5GB', '32GB RAM', '12 G B']) {
      expect(parseSize(bad), bad).toBeNull();
    }
  });
});

describe('formatSize', () => {
  it('writes decimal units', () => {
    expect(formatSize(32 * GB)).toBe('32GB');
    expect(formatSize(512e6)).toBe('512MB');
    expect(formatSize(1.5 * GB)).toBe('1.5GB');
    expect(formatSize(500)).toBe('500B');
  });
});

describe('fit', () => {
  it('fits a request with no GPUs and chooses none', () => {
    expect(fit(request({ cpu: 4, memory: 8 * GB }), runner)).toEqual([]);
  });

  it('fits exactly the free CPUs and memory', () => {
    expect(fit(request({ cpu: 16, memory: 64 * GB }), runner)).toEqual([]);
  });

  it('does not fit more CPUs than are free', () => {
    expect(fit(request({ cpu: 17 }), runner)).toBeNull();
  });

  it('does not fit more memory than is free', () => {
    expect(fit(request({ memory: 64 * GB + 1 }), runner)).toBeNull();
  });

  it('chooses the first GPUs by index for a count', () => {
    expect(fit(request({ gpu: 2 }), runner)?.map((g) => g.index)).toEqual([0, 1]);
    expect(fit(request({ gpu: 3 }), runner)?.map((g) => g.index)).toEqual([0, 1, 2]);
    expect(fit(request({ gpu: 4 }), runner)).toBeNull();
  });

  it('filters GPUs by name, case-insensitively, as a part of the name', () => {
    expect(fit(request({ gpu: 2, gpuName: 'a100' }), runner)?.map((g) => g.index)).toEqual([0, 2]);
    expect(fit(request({ gpu: 1, gpuName: 'V100' }), runner)?.map((g) => g.index)).toEqual([1]);
    expect(fit(request({ gpu: 2, gpuName: 'V100' }), runner)).toBeNull();
    expect(fit(request({ gpu: 1, gpuName: 'H100' }), runner)).toBeNull();
  });

  it('filters GPUs by memory, at least the request', () => {
    expect(fit(request({ gpu: 1, gpuMemory: 40 * GiB }), runner)?.map((g) => g.index)).toEqual([0]);
    expect(fit(request({ gpu: 2, gpuMemory: 20 * GB }), runner)?.map((g) => g.index)).toEqual([0, 2]);
    expect(fit(request({ gpu: 1, gpuMemory: 80 * GiB }), runner)).toBeNull();
  });

  it('returns the GPU objects it chose', () => {
    expect(fit(request({ gpu: 1, gpuName: 'v100' }), runner)).toEqual([runner.gpus[1]]);
  });

  it('does not fit a GPU request on a runner without GPUs', () => {
    expect(fit(request({ gpu: 1 }), { cpu: 8, memory: 32 * GB, gpus: [] })).toBeNull();
  });
});

describe('neverFits', () => {
  it('is null when the request fits the total', () => {
    expect(neverFits(request({ cpu: 16, memory: 64 * GB, gpu: 2, gpuName: 'A100' }), runner)).toBeNull();
  });

  it('names the CPUs that no runner of this size has', () => {
    expect(neverFits(request({ cpu: 32 }), runner)).toBe('32 CPUs');
  });

  it('names the memory that no runner of this size has', () => {
    expect(neverFits(request({ memory: 128 * GB }), runner)).toBe('128GB of memory');
  });

  it('names the GPUs, singular and plural, with their name when asked for one', () => {
    expect(neverFits(request({ gpu: 4 }), runner)).toBe('4 GPUs');
    expect(neverFits(request({ gpu: 1 }), { cpu: 8, memory: 32 * GB, gpus: [] })).toBe('1 GPU');
    expect(neverFits(request({ gpu: 1, gpuName: 'H100' }), runner)).toBe('1 H100 GPU');
    expect(neverFits(request({ gpu: 3, gpuName: 'A100' }), runner)).toBe('3 A100 GPUs');
  });

  it('counts a GPU too small in memory as missing', () => {
    expect(neverFits(request({ gpu: 1, gpuMemory: 80 * GB }), runner)).toBe('1 GPU with 80GB of memory');
  });

  it('names everything a request lacks at once, so that one fix is not followed by the next refusal', () => {
    expect(neverFits(request({ cpu: 512, memory: 2000 * GB, gpu: 1, gpuName: 'H100' }), runner)).toBe(
      '512 CPUs, 2.0TB of memory and 1 H100 GPU',
    );
    expect(neverFits(request({ cpu: 32, gpu: 4 }), runner)).toBe('32 CPUs and 4 GPUs');
  });
});

describe('subtract', () => {
  it('takes the CPUs, memory and chosen GPUs off the free capacity', () => {
    const r = request({ cpu: 4, memory: 16 * GB, gpu: 2, gpuName: 'A100' });
    const chosen = fit(r, runner)!;
    expect(subtract(runner, r, chosen)).toEqual({
      cpu: 12,
      memory: 48 * GB,
      gpus: [runner.gpus[1]],
    });
  });

  it('does not change the capacity it is given', () => {
    const before = structuredClone(runner);
    subtract(runner, request({ cpu: 1, gpu: 1 }), [runner.gpus[0]!]);
    expect(runner).toEqual(before);
  });

  it('leaves room that a second request fits into, and not a third', () => {
    const r = request({ cpu: 8, memory: 32 * GB, gpu: 1 });
    const after1 = subtract(runner, r, fit(r, runner)!);
    const chosen2 = fit(r, after1);
    expect(chosen2?.map((g) => g.index)).toEqual([1]);
    const after2 = subtract(after1, r, chosen2!);
    expect(after2).toEqual({ cpu: 0, memory: 0, gpus: [runner.gpus[2]] });
    expect(fit(r, after2)).toBeNull();
  });
});
