/**
 * Reading what Slurm's commands print. Pure, so that each format is tested with outputs
 * recorded from a real cluster. `squeue --json` changed shape across releases (22.05 has
 * plain strings and numbers, 23.02+ arrays and `{set, number}` objects): both are read.
 */
import { z } from 'zod';
import type { SlurmJobState, SlurmNode } from './types.js';

/** `sbatch --parsable` prints `ID` or `ID;CLUSTER`. */
export function parseSbatch(stdout: string): string {
  const m = /^(\d+)(?:;\S+)?\s*$/.exec(stdout.trim());
  if (!m) throw new Error(`unexpected sbatch output: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  return m[1]!;
}

const numberish = z.union([
  z.number(),
  z
    .object({ set: z.boolean().optional(), number: z.number().optional() })
    .transform((v) => (v.set === false ? undefined : v.number)),
]);

/** 22.05 gives the batch script's raw wait status (exit code << 8 | signal); 23.02+ an object with the code. */
const exitCode = z.union([
  z.number().transform((status) => status >> 8),
  z.object({ return_code: numberish.optional() }).transform((v) => v.return_code),
]);

const squeueJob = z.object({
  job_id: numberish,
  job_state: z.union([z.string(), z.array(z.string())]),
  state_reason: z.string().optional(),
  exit_code: exitCode.optional().nullable(),
});

const squeueJson = z.object({
  jobs: z.array(z.unknown()),
  errors: z.array(z.unknown()).optional(),
});

/** `squeue --json`: the jobs among `ids` that Slurm lists (22.05 lists every job whatever the filters). */
export function parseSqueueJson(text: string, ids?: readonly string[]): Map<string, SlurmJobState> {
  const wanted = ids ? new Set(ids) : undefined;
  const out = new Map<string, SlurmJobState>();
  for (const raw of squeueJson.parse(JSON.parse(text)).jobs) {
    const job = squeueJob.safeParse(raw);
    if (!job.success || job.data.job_id === undefined) continue;
    const slurmId = String(job.data.job_id);
    if (wanted && !wanted.has(slurmId)) continue;
    const states = typeof job.data.job_state === 'string' ? [job.data.job_state] : job.data.job_state;
    const state: SlurmJobState = { slurmId, state: states[0] ?? 'UNKNOWN' };
    // 23.02+ list the flags after the base state: an ending job's processes still run while COMPLETING is among them.
    if (states.slice(1).includes('COMPLETING')) state.completing = true;
    out.set(slurmId, withOptional(state, job.data.state_reason, job.data.exit_code));
  }
  return out;
}

/** `squeue -h -t all -o '%i|%T|%r'`: the fallback where `--json` is missing. */
export function parseSqueueFormatted(text: string, ids?: readonly string[]): Map<string, SlurmJobState> {
  const wanted = ids ? new Set(ids) : undefined;
  const out = new Map<string, SlurmJobState>();
  for (const line of text.split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (!id || !state || (wanted && !wanted.has(id))) continue;
    out.set(id, withOptional({ slurmId: id, state }, reason, undefined));
  }
  return out;
}

/**
 * `sacct -n -P -o jobid,state,exitcode` (or with `-c`, from the job completion log):
 * `7|TIMEOUT|0:0`, `9|CANCELLED by 0|0:15`; steps (`7.batch`) are skipped.
 */
export function parseSacct(text: string, ids?: readonly string[]): Map<string, SlurmJobState> {
  const wanted = ids ? new Set(ids) : undefined;
  const out = new Map<string, SlurmJobState>();
  for (const line of text.split('\n')) {
    const [id, stateText, exit] = line.trim().split('|');
    if (!id || !stateText || !/^\d+$/.test(id) || (wanted && !wanted.has(id))) continue;
    const [state = stateText, ...rest] = stateText.split(' ');
    const code = exit === undefined ? undefined : Number(exit.split(':')[0]);
    // The completion log keeps every run of a job id; the last line is the newest.
    out.set(id, withOptional({ slurmId: id, state }, rest.join(' ') || undefined, code));
  }
  return out;
}

function withOptional(
  base: SlurmJobState,
  reason: string | undefined,
  exitCode: number | undefined | null,
): SlurmJobState {
  const job = { ...base };
  if (reason && reason !== 'None' && reason !== '(null)') job.reason = reason;
  if (typeof exitCode === 'number' && Number.isFinite(exitCode)) job.exitCode = exitCode;
  return job;
}

/** `sinfo -h -N -o '%N|%c|%m|%G|%T'`: one line per node and partition; a node is listed once. */
export function parseSinfo(text: string): SlurmNode[] {
  const nodes = new Map<string, SlurmNode>();
  for (const line of text.split('\n')) {
    const [name, cpus, memory, gres = '', state = ''] = line.trim().split('|');
    if (!name || nodes.has(name)) continue;
    nodes.set(name, {
      name,
      cpus: Number.parseInt(cpus ?? '0', 10) || 0,
      memory: (Number.parseInt(memory ?? '0', 10) || 0) * 2 ** 20,
      gpus: parseGres(gres),
      state,
    });
  }
  return [...nodes.values()];
}

/** `gpu:a100:4(S:0-1),gpu:2,shard:8` → GPUs by type; `(null)` → none. */
export function parseGres(gres: string): SlurmNode['gpus'] {
  const gpus: SlurmNode['gpus'] = [];
  for (const item of gres.split(/,(?![^(]*\))/)) {
    const parts = item.replace(/\(.*\)$/, '').split(':');
    if (parts[0] !== 'gpu') continue;
    const count = Number.parseInt(parts[parts.length - 1] ?? '', 10);
    if (!Number.isFinite(count) || count <= 0) continue;
    gpus.push({ type: parts.length >= 3 ? parts[1]! : 'gpu', count });
  }
  return gpus;
}
