/**
 * The token the dashboard calls the API with. It lives in this tab's sessionStorage only:
 * a login link (`/#token=…`) hands it over in the fragment, which browsers never send to a
 * server; it is moved here at once and stripped from the address bar and history.
 *
 * A tab opened from another (a link opened in a new tab) starts with no sessionStorage of its
 * own: it asks the dashboard's open tabs over a BroadcastChannel, which only pages of this
 * origin in this browser profile can hear, and one of them answers with its token. Nothing is
 * written to disk (docs/decisions.md: "A new tab of the dashboard asks its open tabs").
 */
const KEY = 'dstack.token';
const CHANNEL = 'dstack.session';
/** How long a tab with no token waits for an open tab's answer before it shows the login page. */
const ASK_MS = 300;

type Message = { type: 'ask' } | { type: 'token'; token: string } | { type: 'logout'; token: string };

/** What the URL's fragment held: no token, one (now in sessionStorage), or one that is not valid percent-encoding. */
export type LinkToken = 'none' | 'taken' | 'malformed';

/**
 * Move a `#token=…` from the URL into sessionStorage. Call before anything renders, and on
 * `hashchange` (a link opened in a tab already at the dashboard). The fragment is stripped
 * whatever it held: a damaged token is no use in the address bar either.
 */
export function takeTokenFromUrl(): LinkToken {
  const match = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
  if (!match) return 'none';
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  let token: string;
  try {
    token = decodeURIComponent(match[1]!).trim();
  } catch {
    return 'malformed'; // URIError: `%zz`, or a link cut in the middle of an escape
  }
  if (!token) return 'none';
  setToken(token);
  return 'taken';
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

const open = (): BroadcastChannel | undefined =>
  typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(CHANNEL);

/**
 * For as long as this page is open: answer another tab's ask with this tab's token, and log out
 * (`onLogout`) when another tab logs out of the same token. Returns the function that stops.
 */
export function shareSession(onLogout: () => void): () => void {
  const channel = open();
  if (!channel) return () => {};
  channel.onmessage = (e: MessageEvent<Message>) => {
    const token = getToken();
    if (!token) return;
    if (e.data.type === 'ask') channel.postMessage({ type: 'token', token } satisfies Message);
    else if (e.data.type === 'logout' && e.data.token === token) onLogout();
  };
  return () => channel.close();
}

/** The token of an open tab of the dashboard, or undefined when none answers within ASK_MS. */
export function askOpenTabs(): Promise<string | undefined> {
  const channel = open();
  if (!channel) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (token: string | undefined) => {
      clearTimeout(timer);
      channel.close();
      resolve(token);
    };
    const timer = setTimeout(() => done(undefined), ASK_MS);
    channel.onmessage = (e: MessageEvent<Message>) => {
      if (e.data.type === 'token') done(e.data.token);
    };
    channel.postMessage({ type: 'ask' } satisfies Message);
  });
}

/** Forget this tab's token, and tell the tabs that share it to forget it too. */
export function logOut(): void {
  const token = getToken();
  clearToken();
  const channel = open();
  if (!token || !channel) return;
  channel.postMessage({ type: 'logout', token } satisfies Message);
  channel.close();
}
