/**
 * A page's setting kept in the address's query (`/?status=failed`): Back from a run's page
 * returns to the runs filtered as they were, and a filtered list can be bookmarked or shared.
 * Replaced, not pushed: changing a filter is no step of history.
 */
import { useState } from 'preact/hooks';

export function useQueryParam(name: string): [string, (value: string) => void] {
  const [value, setValue] = useState(() => new URLSearchParams(window.location.search).get(name) ?? '');
  const set = (next: string) => {
    const query = new URLSearchParams(window.location.search);
    if (next) query.set(name, next);
    else query.delete(name);
    const search = query.toString();
    window.history.replaceState(window.history.state, '', window.location.pathname + (search ? `?${search}` : ''));
    setValue(next);
  };
  return [value, set];
}
