/**
 * Stop, abort, resume and tag a run or a job, each behind a confirmation. A button is
 * offered only when its action can apply; the server still decides, and its refusal shows.
 */
import { useState } from 'preact/hooks';
import { isFinished, resumableJobs } from '../../../src/core/job-status.js';
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

  return (
    <div class="controls">
      <button
        disabled={!running}
        onClick={() =>
          setDialog({
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
          setDialog({
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
