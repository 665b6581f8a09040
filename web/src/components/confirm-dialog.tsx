/**
 * Every action asks before it acts. The dialog shows what will happen, runs the action on
 * confirm and shows the server's refusal, if any, in place.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorBox } from './error-box.js';

export interface ConfirmProps {
  title: string;
  message: string;
  /** What the action will do, item by item (the jobs a run's resume takes and leaves). */
  details?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** Ask for a value too (a tag name); `pattern` is a regular expression it must match. */
  input?: { label: string; pattern?: string; placeholder?: string };
  onConfirm: (value: string) => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog(props: ConfirmProps) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm(value.trim());
      props.onClose();
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="confirm" onClose={props.onClose} aria-labelledby="confirm-title">
      <form onSubmit={(e) => void submit(e)}>
        <h3 id="confirm-title">{props.title}</h3>
        <p>{props.message}</p>
        {props.details}
        {props.input && (
          <label>
            {props.input.label}
            <input
              autoFocus
              required
              value={value}
              pattern={props.input.pattern}
              placeholder={props.input.placeholder}
              onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            />
          </label>
        )}
        <ErrorBox error={error} />
        <div class="buttons">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={busy}>
            {busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
