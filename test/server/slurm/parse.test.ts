/** Reading Slurm's outputs, recorded from a real 22.05 cluster (and the 23.02+ JSON shape). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseGres,
  parseSacct,
  parseSbatch,
  parseSinfo,
  parseSqueueFormatted,
  parseSqueueJson,
} from '../../../src/server/backends/slurm/parse.js';

const recorded = (name: string) => readFileSync(join(import.meta.dirname, 'recorded', name), 'utf8');

describe('Slurm output parsing', () => {
  it('reads the job id that sbatch --parsable prints, with or without a cluster name', () => {
    expect(parseSbatch('42\n')).toBe('42');
    expect(parseSbatch('42;gpu-cluster\n')).toBe('42');
    expect(() => parseSbatch('Submitted batch job 42')).toThrow(/unexpected sbatch output: "Submitted batch job 42"/);
  });

  it("reads squeue --json of Slurm 22.05: states, Slurm's reasons, exit codes from wait statuses", () => {
    const jobs = parseSqueueJson(recorded('squeue-22.05.json'), ['4', '7', '8', '9', '10', '99']);
    expect([...jobs.values()]).toEqual([
      { slurmId: '4', state: 'CANCELLED', exitCode: 143 },
      { slurmId: '7', state: 'TIMEOUT', reason: 'TimeLimit', exitCode: 0 },
      { slurmId: '8', state: 'RUNNING', exitCode: 0 },
      { slurmId: '9', state: 'PENDING', reason: 'Resources', exitCode: 0 },
      { slurmId: '10', state: 'PENDING', reason: 'JobHeldUser', exitCode: 0 },
    ]);
  });

  it('reads squeue --json of Slurm 23.02 and later: states as lists, numbers as {set, number}', () => {
    const jobs = parseSqueueJson(recorded('squeue-23.11.json'));
    expect(jobs.get('4101')).toEqual({ slurmId: '4101', state: 'PENDING', reason: 'Priority' });
    expect(jobs.get('4102')).toEqual({ slurmId: '4102', state: 'RUNNING', exitCode: 0 });
    expect(jobs.get('4103')).toEqual({ slurmId: '4103', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 2 });
    // Ended by Slurm while its processes are still being signalled: the flag says so.
    expect(jobs.get('4104')).toMatchObject({ state: 'CANCELLED', completing: true });
    expect(jobs.get('4102')?.completing).toBeUndefined();
  });

  it('reads the squeue -o fallback the same way', () => {
    const jobs = parseSqueueFormatted(recorded('squeue-format.txt'), ['7', '9', '2']);
    expect(Object.fromEntries(jobs)).toEqual({
      '2': { slurmId: '2', state: 'COMPLETED' },
      '7': { slurmId: '7', state: 'TIMEOUT', reason: 'TimeLimit' },
      '9': { slurmId: '9', state: 'PENDING', reason: 'Resources' },
    });
  });

  it('reads sacct -c (the job completion log) and sacct with accounting, skipping steps', () => {
    const jobs = parseSacct(recorded('sacct-c.txt'), ['7', '9']);
    expect(jobs.get('7')).toEqual({ slurmId: '7', state: 'TIMEOUT', exitCode: 0 });
    expect(jobs.get('9')).toEqual({ slurmId: '9', state: 'COMPLETED', exitCode: 0 });
    const accounted = parseSacct('12|CANCELLED by 1000|0:15\n12.batch|CANCELLED|0:15\n13|FAILED|2:0\n');
    expect([...accounted.values()]).toEqual([
      { slurmId: '12', state: 'CANCELLED', reason: 'by 1000', exitCode: 0 },
      { slurmId: '13', state: 'FAILED', exitCode: 2 },
    ]);
  });

  it("reads sinfo's nodes, memory in bytes, each node once", () => {
    expect(parseSinfo(recorded('sinfo.txt'))).toEqual([
      { name: 'vm', cpus: 2, memory: 24105 * 2 ** 20, gpus: [], state: 'allocated' },
    ]);
    const two = parseSinfo(
      'g1|64|512000|gpu:a100:4(S:0-1)|mixed\ng1|64|512000|gpu:a100:4(S:0-1)|mixed\ng2|32|256000|gpu:2|idle\n',
    );
    expect(two.map((n) => [n.name, n.gpus])).toEqual([
      ['g1', [{ type: 'a100', count: 4 }]],
      ['g2', [{ type: 'gpu', count: 2 }]],
    ]);
  });

  it('reads GPUs from gres strings and ignores other gres', () => {
    expect(parseGres('(null)')).toEqual([]);
    expect(parseGres('gpu:v100:2(S:0,1),gpu:a100:1,shard:8')).toEqual([
      { type: 'v100', count: 2 },
      { type: 'a100', count: 1 },
    ]);
  });
});
