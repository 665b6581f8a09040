/**
 * The token the dashboard calls the API with. It lives in this tab's sessionStorage only:
 * a login link (`/#token=…`) hands it over in the fragment, which browsers never send to a
 * server; it is moved here at once and stripped from the address bar and history.
 */
const KEY = 'dstack.token';

/**
 * Move a `#token=…` from the URL into sessionStorage; true when there was one. Call before
 * anything renders, and on `hashchange` (a link opened in a tab already at the dashboard).
 */
export function takeTokenFromUrl(): boolean {
  const match = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
  if (!match) return false;
  const token = decodeURIComponent(match[1]!).trim();
  if (token) setToken(token);
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  return token !== '';
}

export function getToken(): string | null {
  return window.sessionStorage.getItem(KEY);
}

export function setToken(token: string): void {
  window.sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  window.sessionStorage.removeItem(KEY);
}
