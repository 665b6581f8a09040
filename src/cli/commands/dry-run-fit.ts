/**
 * What `dstack run --dry-run` says of a planned job that would never start: in the running
 * server's words (RunPreview.neverStarts), else in those of the embedded server the run would
 * start, whose one runner is this machine. The plan alone once said nothing, and the run failed.
 */
import pc from 'picocolors';
import type { RunPreview } from '../../core/api.js';
import { thisMachineLacks } from '../../core/job-needs.js';
import type { JobSpec } from '../../core/job-spec.js';
import { neverFits } from '../../core/resources.js';
import { printable } from '../format.js';

export type NeverStarts = NonNullable<RunPreview['neverStarts']>;

/**
 * The planned jobs this machine is too small for, failed as the embedded server fails them.
 * Only sizes: what a job must run with (a Docker engine, a Python) the runner finds out as it starts.
 */
export async function tooBigForThisMachine(specs: readonly JobSpec[]): Promise<NeverStarts> {
  const { detectCapacity } = await import('../../runner/capacity.js');
  // nvidia-smi is asked only where a job wants a GPU.
  const wantsGpu = specs.some((s) => s.resources.gpu > 0);
  const total = await detectCapacity(wantsGpu ? {} : { gpus: [] }, {
    warn: (message) => process.stderr.write(`${pc.yellow('warning:')} ${message}\n`),
  });
  const found: NeverStarts = {};
  for (const spec of specs) {
    const size = neverFits(spec.resources, total);
    if (size !== null) found[spec.ref] = { reason: thisMachineLacks(size), fails: true };
  }
  return found;
}

/**
 * Say why each job would never start, as a warning: the plan is sound, and a dry run checks it
 * on machines (CI, a laptop) that are not where the run goes, so the exit code stays 0.
 */
export function reportNeverStarts(never: NeverStarts): void {
  for (const [ref, { reason, fails }] of Object.entries(never))
    process.stderr.write(
      `${pc.yellow('warning:')} job ${printable(ref)} would ${fails ? 'fail' : 'wait'}: ${printable(reason)}\n`,
    );
}
