/**
 * A run's tag, or the tag it was submitted with (`dstack run --tag`) while it has not finished,
 * marked as promised, as `dstack status` shows it: the tag is the run's once it is DONE, and no
 * other run may take it meanwhile.
 */
import { isFinished } from '../../../src/core/job-status.js';
import type { RunView } from '../../../src/core/records.js';

/** What marks a tag promised to an unfinished run, not yet its (the CLI's words). */
export const PROMISED = '(when DONE)';

export function RunTag({ run }: { run: Pick<RunView, 'tag' | 'tagOnDone' | 'jobs'> }) {
  if (run.tag !== undefined) return <>{run.tag}</>;
  if (run.tagOnDone === undefined || run.jobs.every((j) => isFinished(j.status))) return null;
  return (
    <span class="promised" title="promised: the run gets this tag once it is DONE">
      {run.tagOnDone} <span class="muted">{PROMISED}</span>
    </span>
  );
}

/** Whether the run shows a tag (RunTag renders something). */
export const hasTag = (run: Pick<RunView, 'tag' | 'tagOnDone' | 'jobs'>): boolean =>
  run.tag !== undefined || (run.tagOnDone !== undefined && run.jobs.some((j) => !isFinished(j.status)));
