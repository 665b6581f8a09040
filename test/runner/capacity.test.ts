/**
 * The GPUs a runner offers: nvidia-smi's rows by their own index, less those the runner's
 * CUDA_VISIBLE_DEVICES hides, and `--gpus` choosing among them. This machine has no GPU, so
 * nvidia-smi is a script on PATH printing what a real one prints (a real process the runner runs).
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { declaredGpus } from '../../src/cli/commands/runner.js';
import { containerOptions } from '../../src/runner/executors/docker/container-spec.js';
import { detectGpus, parseNvidiaSmi, visibleToRunner } from '../../src/runner/capacity.js';

const A100 = 'NVIDIA A100-SXM4-80GB';
const ROWS = [
  `0, GPU-11111111-aaaa-bbbb-cccc-000000000000, ${A100}, 81920`,
  `1, GPU-22222222-aaaa-bbbb-cccc-000000000000, ${A100}, 81920`,
  `2, GPU-33333333-aaaa-bbbb-cccc-000000000000, ${A100}, [N/A]`,
];
const GiB80 = 81920 * 2 ** 20;

/** A folder holding an `nvidia-smi` that runs `body`, for PATH. */
async function fakeNvidiaSmi(body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-nvidia-smi-'));
  await writeFile(join(dir, 'nvidia-smi'), `#!/bin/sh\n${body}\n`);
  await chmod(join(dir, 'nvidia-smi'), 0o755);
  return dir;
}

describe('GPU detection', () => {
  it("takes each GPU's index from nvidia-smi's own field, skips lines that are not rows, and counts unknown memory as 0", () => {
    const output = ['WARNING: infoROM is corrupted at gpu 0000:00:04.0', ROWS[1], ROWS[2], ''].join('\n');
    expect(parseNvidiaSmi(output).map(({ index, memory }) => [index, memory])).toEqual([
      [1, GiB80],
      [2, 0],
    ]);
  });

  it("reads a real H100's row (recorded on one: driver 580.159.04) and keeps it by its UUID", () => {
    const h100 = '0, GPU-6742871d-04bb-1b8a-ffc9-e3fd79749d08, NVIDIA H100 80GB HBM3, 81559\n';
    const gpus = parseNvidiaSmi(h100);
    expect(gpus).toEqual([
      {
        index: 0,
        uuid: 'GPU-6742871d-04bb-1b8a-ffc9-e3fd79749d08',
        name: 'NVIDIA H100 80GB HBM3',
        memory: 81559 * 2 ** 20,
      },
    ]);
    expect(visibleToRunner(gpus, 'GPU-6742871d-04bb-1b8a-ffc9-e3fd79749d08')).toEqual(gpus);
    expect(visibleToRunner(gpus, '1')).toEqual([]);
  });

  it("offers only the GPUs the runner's CUDA_VISIBLE_DEVICES lists, by index or UUID, as CUDA reads it", () => {
    const gpus = parseNvidiaSmi(ROWS.join('\n'));
    const indices = (variable: string | undefined) => visibleToRunner(gpus, variable).map((g) => g.index);
    expect(indices(undefined)).toEqual([0, 1, 2]);
    expect(indices('1')).toEqual([1]);
    expect(indices('2,0')).toEqual([2, 0]);
    expect(indices('GPU-3333,GPU-11111111-aaaa-bbbb-cccc-000000000000')).toEqual([2, 0]);
    expect(indices('')).toEqual([]);
    expect(indices('-1')).toEqual([]);
    expect(indices('1,7,0')).toEqual([1]); // CUDA stops at the first it cannot use
  });

  it('runs nvidia-smi with the query it parses, and leaves out what CUDA_VISIBLE_DEVICES hides', async () => {
    const dir = await fakeNvidiaSmi(
      `[ "$1" = --query-gpu=index,uuid,name,memory.total ] || exit 3\nprintf '%s\\n' '${ROWS.join("' '")}'`,
    );
    const env = { PATH: `${dir}:/usr/bin:/bin`, CUDA_VISIBLE_DEVICES: '1' };
    expect(await detectGpus({ env })).toEqual([{ index: 1, name: A100, memory: GiB80 }]);
  });

  it('says why when nvidia-smi is there and fails, and stays quiet where there is none', async () => {
    const warnings: string[] = [];
    const warn = (message: string) => void warnings.push(message);
    const dir = await fakeNvidiaSmi('echo "Failed to initialize NVML: Driver/library version mismatch" >&2; exit 18');
    expect(await detectGpus({ env: { PATH: `${dir}:/usr/bin:/bin` }, warn })).toEqual([]);
    expect(warnings).toEqual([
      'nvidia-smi failed, so this runner offers no GPUs: Failed to initialize NVML: Driver/library version mismatch',
    ]);
    const empty = await mkdtemp(join(tmpdir(), 'dstack-no-nvidia-smi-'));
    expect(await detectGpus({ env: { PATH: empty }, warn })).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('takes --gpus as a count of the detected GPUs or as their indices, and names what is wrong', () => {
    const detected = parseNvidiaSmi(ROWS.join('\n')).map(({ index, name, memory }) => ({ index, name, memory }));
    expect(declaredGpus('2', detected).map((g) => g.index)).toEqual([0, 1]);
    // More than nvidia-smi lists: a job given the fourth would name a GPU CUDA does not have.
    expect(() => declaredGpus('4', detected)).toThrow(
      "invalid --gpus '4': nvidia-smi lists 3 GPUs here (0, 1, 2): offer at most 3, or name them by index (0,2)",
    );
    expect(() => declaredGpus('2', detected.slice(0, 1))).toThrow(
      "invalid --gpus '2': nvidia-smi lists 1 GPU here (0): offer at most 1, or name them by index (0,2)",
    );
    // None listed (no nvidia-smi): as many as said, named generically.
    expect(declaredGpus('2', [])[1]).toEqual({ index: 1, name: 'GPU', memory: 0 });
    expect(declaredGpus('2,0', detected).map((g) => g.index)).toEqual([2, 0]);
    expect(() => declaredGpus('0,5', detected)).toThrow(
      "invalid --gpus '0,5': no GPU 5 here (nvidia-smi lists 0, 1, 2)",
    );
    expect(() => declaredGpus('1', [])).not.toThrow();
    expect(() => declaredGpus('0', [])).not.toThrow();
    expect(() => declaredGpus('0,1', [])).toThrow("invalid --gpus '0,1': no GPU 0 here (nvidia-smi lists none)");
    expect(() => declaredGpus('two', detected)).toThrow(
      "invalid --gpus 'two': expected a number of GPUs (2) or their indices (0,2)",
    );
  });

  it("names a container's GPUs in NVIDIA_VISIBLE_DEVICES, and none (void) for a job without, over the image's", () => {
    const request = (gpus: number[]) => ({
      jobId: '0123456789ab',
      workspace: '/w',
      commands: ['true'],
      image: 'busybox',
      env: { NVIDIA_VISIBLE_DEVICES: 'all' },
      gpus,
      onOutput: () => true,
    });
    const env = (gpus: number[]) => containerOptions(request(gpus), '/s', { network: 'host', labels: {} }).Env;
    expect(env([1, 3])).toContain('NVIDIA_VISIBLE_DEVICES=1,3');
    expect(env([])).toContain('NVIDIA_VISIBLE_DEVICES=void');
    expect(env([])).not.toContain('NVIDIA_VISIBLE_DEVICES=all');
  });
});
