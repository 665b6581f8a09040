/**
 * Load something now and again every `intervalMs` while the page is visible: how lists
 * stay live without a reload. A slow answer is never overtaken: the next load waits for it.
 * An answer that asking again will not change (403, 404: no such run, not yours) ends the
 * polling; `refresh` still asks once.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';

export interface Polled<T> {
  data?: T;
  error?: Error;
  /** Load again now (after an action). */
  refresh: () => void;
}

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number, key: string): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; key: string }>({ key });
  const kick = useRef<() => void>(() => {});
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let settled = false; // the server said no for good
    const tick = async () => {
      clearTimeout(timer);
      if (abort.signal.aborted || running) return;
      running = true;
      try {
        const data = await loadRef.current(abort.signal);
        settled = false;
        if (!abort.signal.aborted) setState({ data, key });
      } catch (e) {
        settled = e instanceof ApiError && (e.status === 403 || e.status === 404);
        if (!abort.signal.aborted) setState((s) => ({ ...s, error: e as Error, key }));
      } finally {
        running = false;
      }
      if (!abort.signal.aborted && !document.hidden && !settled) timer = setTimeout(() => void tick(), intervalMs);
    };
    kick.current = () => void tick();
    const onVisible = () => {
      if (!document.hidden && !settled) void tick();
    };
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      abort.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [key, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  // Data of a previous key (another run) must not show under the new one.
  return state.key === key ? { data: state.data, error: state.error, refresh } : { refresh };
}
