/** Logging in with a token: checked against the server before it is kept. */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import { ErrorBox } from '../components/error-box.js';

/** A login link whose token is not valid percent-encoding (`/#token=%zz`): cut or changed as it was copied. */
export const MALFORMED_LINK =
  'This login link is damaged: its token is not valid URL encoding (was it cut or changed as it was copied?). ' +
  "Run 'dstack dashboard' again for a new link, or paste your token below.";

/**
 * The server does not know the token. It cannot say more (it keeps no record of the tokens it
 * replaced), and its own wording is for API callers: say what a person can do instead.
 */
export const UNKNOWN_TOKEN =
  "The server does not accept this token: it was replaced or revoked, or it is not this server's. " +
  "Run 'dstack dashboard' again for a new login link, or ask the server's admin for a new token.";

/** Why the server did not take a token, in words a person can act on. */
export function refusal(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return UNKNOWN_TOKEN;
  if (error instanceof ApiError && error.status === 403)
    return `This token cannot open the dashboard: ${error.message}.`;
  return (error as Error).message;
}

export function LoginPage(props: { message?: string; onLogin: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(props.message);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.checkToken(token.trim());
      props.onLogin(token.trim());
    } catch (err) {
      setError(refusal(err));
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={(e) => void submit(e)}>
        <h1>dstack</h1>
        <p class="muted">
          Log in with your token. On this machine, <code>dstack dashboard</code> opens a link that logs you in.
        </p>
        <label>
          Token
          <input
            type="password"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
