/** A small History-API router: the server answers every non-/api path with the app. */
import { useEffect, useState } from 'preact/hooks';

const EVENT = 'dstack:navigate';

export function navigate(path: string): void {
  if (path === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(EVENT));
  window.scrollTo(0, 0);
}

/** The current path, re-rendering on navigation and on back/forward. */
export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return path;
}

/**
 * `/runs/:name` against `/runs/abc` → `{ name: 'abc' }`; null when it does not match, and when
 * a parameter is not valid percent-encoding (`/runs/%zz`): no run or job has such a name.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (path === '/' && pattern === '/') return {};
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      const value = decodeParam(g);
      if (value === undefined) return null;
      params[w.slice(1)] = value;
    } else if (w !== g) return null;
  }
  return params;
}

function decodeParam(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined; // URIError: a malformed escape
  }
}
