/**
 * sbatch options that dstack sets for every job (batch.ts) and that `--slurm-sbatch-args` may
 * not give: sbatch takes the last of an option given twice, and extra options come first so that
 * a job's own resources win over them, but these would still break what dstack relies on.
 */

/** Why each group is dstack's, as the refusal says it. */
const OWNED: { long: string[]; short: string[]; why: string }[] = [
  {
    long: ['job-name', 'output', 'error', 'chdir'],
    short: ['J', 'o', 'e', 'D'],
    why: "dstack names each batch job, its folder and Slurm's output file, which a failed job's reason points to",
  },
  {
    long: ['requeue', 'no-requeue'],
    short: [],
    why:
      'dstack decides what runs again: a job Slurm ends (a time limit, a preemption) is stopped with its ' +
      "artifacts saved for 'dstack resume', and a batch job Slurm requeued would start a runner whose token is spent",
  },
  {
    long: ['array', 'wrap', 'wait', 'parsable', 'test-only'],
    short: ['a', 'W'],
    why: 'dstack submits one batch script per job and reads the job id sbatch prints',
  },
  {
    long: ['nodes', 'ntasks'],
    short: ['N', 'n'],
    why: 'a dstack job runs as one task on one node (--nodes=1 --ntasks=1)',
  },
];

/** The refusal of `arg` (one word of the extra sbatch options), or undefined when it is the admin's to give. */
export function ownedOptionError(arg: string): string | undefined {
  let long: string | undefined;
  let short: string | undefined;
  if (arg.startsWith('--')) long = arg.slice(2).split('=', 1)[0];
  else if (/^-[A-Za-z]/.test(arg)) short = arg[1];
  else return undefined;
  const group = OWNED.find((g) => (long !== undefined ? g.long.includes(long) : g.short.includes(short!)));
  if (!group) return undefined;
  return `'${arg}' is dstack's to set: ${group.why}`;
}
