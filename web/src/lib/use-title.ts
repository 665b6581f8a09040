/**
 * The tab's title: what the page shows, and a run's or job's status, so that a user watching
 * several runs in tabs tells them apart, and sees one end, without switching to it.
 */
import { useEffect } from 'preact/hooks';

export const titleOf = (what: string) => `${what} · dstack`;

export function useTitle(what: string): void {
  useEffect(() => {
    document.title = titleOf(what);
  }, [what]);
}
