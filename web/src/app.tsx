/**
 * The dashboard: log in (a login link, a token typed in, or the session of another open tab),
 * then the pages by path. A token the server stops accepting sends the tab back to the login
 * page saying why.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized } from './api/client.js';
import {
  askOpenTabs,
  clearToken,
  getToken,
  logOut,
  setToken,
  shareSession,
  takeTokenFromUrl,
  type LinkToken,
} from './api/session.js';
import { NavBar } from './components/nav-bar.js';
import { matchPath, navigate, usePath } from './lib/router.js';
import { JobPage } from './pages/job-page.js';
import { LoginPage, MALFORMED_LINK, refusal } from './pages/login-page.js';
import { RunPage } from './pages/run-page.js';
import { RunnersPage } from './pages/runners-page.js';
import { RunsPage } from './pages/runs-page.js';
import { TagsPage } from './pages/tags-page.js';

type Session =
  | { state: 'asking' } // no token of its own: waiting for an open tab's
  | { state: 'checking' }
  | { state: 'in' }
  | { state: 'out'; message?: string };

/** `link`: what the address this tab opened with held (main.tsx took it before the first render). */
export function App({ link }: { link: LinkToken }) {
  const [session, setSession] = useState<Session>(() => {
    if (getToken()) return { state: 'checking' };
    return link === 'malformed' ? { state: 'out', message: MALFORMED_LINK } : { state: 'asking' };
  });
  const path = usePath();

  useEffect(
    () =>
      onUnauthorized((error) => {
        clearToken();
        setSession({ state: 'out', message: refusal(error) });
      }),
    [],
  );

  // Another tab logging out of this token logs this one out too.
  useEffect(() => shareSession(() => (clearToken(), setSession({ state: 'out' }))), []);

  useEffect(() => {
    if (session.state !== 'asking') return;
    void askOpenTabs().then((token) => {
      if (token && !getToken()) setToken(token);
      setSession(getToken() ? { state: 'checking' } : { state: 'out' });
    });
  }, [session.state]);

  // A login link opened in this tab while the app runs changes only the fragment: no reload.
  useEffect(() => {
    const onHash = () => {
      const taken = takeTokenFromUrl();
      if (taken === 'taken') setSession({ state: 'checking' });
      else if (taken === 'malformed' && !getToken()) setSession({ state: 'out', message: MALFORMED_LINK });
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // A token from a link or an earlier visit is checked once, before any page asks with it.
  useEffect(() => {
    const token = getToken();
    if (session.state !== 'checking' || !token) return;
    api.checkToken(token).then(
      () => setSession({ state: 'in' }),
      (error: unknown) => {
        clearToken();
        setSession({ state: 'out', message: refusal(error) });
      },
    );
  }, [session.state]);

  if (session.state === 'checking' || session.state === 'asking') return <p class="muted center">connecting…</p>;
  if (session.state === 'out') {
    return (
      <LoginPage
        message={session.message}
        onLogin={(token) => {
          setToken(token);
          setSession({ state: 'in' });
        }}
      />
    );
  }
  return (
    <>
      <NavBar
        path={path}
        onLogout={() => {
          logOut();
          setSession({ state: 'out' });
          navigate('/');
        }}
      />
      <Page path={path} />
    </>
  );
}

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if ((params = matchPath('/', path))) return <RunsPage />;
  if ((params = matchPath('/runs/:name', path))) return <RunPage key={params.name} name={params.name!} />;
  if ((params = matchPath('/jobs/:id', path))) return <JobPage key={params.id} id={params.id!} />;
  if (matchPath('/runners', path)) return <RunnersPage />;
  if (matchPath('/tags', path)) return <TagsPage />;
  return (
    <main>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <a href="/">See the runs.</a>
      </p>
    </main>
  );
}
