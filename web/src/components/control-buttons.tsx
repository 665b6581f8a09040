/**
 * Stop, abort, resume and tag a run or a job, each behind a confirmation. A button is
 * offered only when its action can apply; the server still decides, and its refusal shows.
 */
import { useState } from 'preact/hooks';
import { isFinished, isResumable, resumableJobs } from '../../../src/core/job-status.js';
import type { JobRecord } from '../../../src/core/records.js';
import { api } from '../api/client.js';
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
    void dependentsNote(props.dependents, action).then((note) =>
      setDialog({ ...dialog, message: dialog.message + note }),
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
