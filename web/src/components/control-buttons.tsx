/**
 * Stop, abort, resume and tag a run or a job, each behind a confirmation. A button is
 * offered only when its action can apply; the server still decides, and its refusal shows.
 */
import { useState } from 'preact/hooks';
import { isFinished, isResumable, resumableJobs } from '../../../src/core/job-status.js';
import type { JobRecord } from '../../../src/core/records.js';
import { api } from '../api/client.js';
import { resumePlan, type ResumePlan } from '../lib/resume-plan.js';
import { ConfirmDialog, type ConfirmProps } from './confirm-dialog.js';

export interface ControlProps {
  /** A run name or a job id, as the CLI takes it. */
  target: string;
  /** What the target is, for the dialogs' wording. */
  noun: 'run' | 'job';
  jobs: readonly JobRecord[];
  /** Offer tagging (runs only). */
  taggable?: boolean;
  /** Called after an action succeeded (reload now). */
  onDone: () => void;
  /**
   * A job's: its run, and the jobs of the run waiting on it (core/job-status.ts dependentsOf). A
   * job's stop stops them too and its resume leaves them stopped, so the dialogs name them.
   */
  dependents?: { run: string; load: () => Promise<readonly JobRecord[]> };
}

type Dialog = Omit<ConfirmProps, 'onClose'>;

export function ControlButtons(props: ControlProps) {
  const [dialog, setDialog] = useState<Dialog>();
  const { target, noun, jobs } = props;
  const running = jobs.some((j) => !isFinished(j.status));
  const resumable = resumableJobs(jobs).length > 0;
  const done = jobs.length > 0 && jobs.every((j) => j.status === 'DONE');
  const act = (fn: () => Promise<unknown>) => async () => {
    await fn();
    props.onDone();
  };
  /** Open a dialog whose message ends with what `action` does to the jobs waiting on the target. */
  const ask = (action: 'stop' | 'resume', dialog: Dialog) =>
    void Promise.all([dependentsNote(props.dependents, action), runResumePlan(noun, target, jobs, action)]).then(
      ([note, plan]) =>
        setDialog({ ...dialog, message: dialog.message + note, details: plan && <PlanList plan={plan} /> }),
    );

  return (
    <div class="controls">
      <button
        disabled={!running}
        onClick={() =>
          ask('stop', {
            title: `Stop ${noun} ${target}?`,
            message: 'Its processes get SIGTERM, then SIGKILL after the grace period; artifacts are saved.',
            confirmLabel: 'Stop',
            danger: true,
            onConfirm: act(() => api.stop(target, false)),
          })
        }
      >
        Stop
      </button>
      <button
        disabled={!running}
        onClick={() =>
          setDialog({
            title: `Abort ${noun} ${target}?`,
            message: 'Its processes are killed at once and nothing is saved.',
            confirmLabel: 'Abort',
            danger: true,
            onConfirm: act(() => api.stop(target, true)),
          })
        }
      >
        Abort
      </button>
      <button
        disabled={!resumable}
        onClick={() =>
          ask('resume', {
            title: `Resume ${noun} ${target}?`,
            message:
              'The stopped jobs (and those whose resume failed before they started) run again, from their saved artifacts.',
            confirmLabel: 'Resume',
            onConfirm: act(() => api.resume(target)),
          })
        }
      >
        Resume
      </button>
      {props.taggable && (
        <button
          disabled={!done}
          title={done ? undefined : 'only a run whose jobs are all DONE can be tagged'}
          onClick={() =>
            setDialog({
              title: `Tag run ${target}?`,
              message: 'Workflows can then depend on its jobs as WORKFLOW:TAG.',
              confirmLabel: 'Tag',
              input: { label: 'Tag', pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]*', placeholder: 'latest' },
              onConfirm: async (tag) => act(() => api.tag(tag, target))(),
            })
          }
        >
          Tag
        </button>
      )}
      {dialog && <ConfirmDialog {...dialog} onClose={() => setDialog(undefined)} />}
    </div>
  );
}

/**
 * For a run's resume: which jobs it resumes and which it leaves, read from the run as the dialog
 * opens (the page's copy may be a poll old); from the page's jobs when the run cannot be read.
 */
async function runResumePlan(
  noun: ControlProps['noun'],
  target: string,
  jobs: readonly JobRecord[],
  action: 'stop' | 'resume',
): Promise<ResumePlan | undefined> {
  if (noun !== 'run' || action !== 'resume') return undefined;
  const run = await api.run(target).catch(() => undefined);
  return resumePlan(run?.jobs ?? jobs, run?.overrides ?? {});
}

/** Listed jobs at most per list: a 1,000-job run's dialog names the first and counts the rest. */
const LISTED = 20;

function PlanList({ plan }: { plan: ResumePlan }) {
  const more = (n: number) => n > LISTED && <li class="muted">… and {n - LISTED} more</li>;
  return (
    <div class="resume-plan">
      <h4>Resumes ({plan.resumes.length})</h4>
      <ul class="resumes">
        {plan.resumes.slice(0, LISTED).map((j) => (
          <li key={j.id}>
            {j.ref} <span class="muted">({j.id})</span> {j.status}
          </li>
        ))}
        {more(plan.resumes.length)}
      </ul>
      {plan.leaves.length > 0 && (
        <>
          <h4>Leaves as they ended ({plan.leaves.length})</h4>
          <ul class="leaves">
            {plan.leaves.slice(0, LISTED).map(({ job, why }) => (
              <li key={job.id}>
                {job.ref} <span class="muted">({job.id})</span> {job.status}: {why}
              </li>
            ))}
            {more(plan.leaves.length)}
          </ul>
        </>
      )}
    </div>
  );
}

/**
 * What a job's stop or resume does to the jobs waiting on it, as the CLI says it (`dstack stop
 * JOB`, `dstack resume JOB`): '' for a run, for a job none waits on, or when the run cannot be read.
 */
async function dependentsNote(dependents: ControlProps['dependents'], action: 'stop' | 'resume'): Promise<string> {
  if (!dependents) return '';
  const jobs = await dependents.load().catch(() => []);
  const named = (list: readonly JobRecord[]) => list.map((j) => `${j.ref} (${j.id})`).join(', ');
  if (action === 'stop') {
    const stopping = jobs.filter((j) => !isFinished(j.status));
    if (stopping.length === 0) return '';
    return ` The jobs waiting on it stop with it: ${named(stopping)}. Resume run ${dependents.run} to start them all again.`;
  }
  const left = jobs.filter(isResumable);
  if (left.length === 0) return '';
  return ` The jobs waiting on it stay stopped: ${named(left)}. Resume run ${dependents.run} to resume them too.`;
}
