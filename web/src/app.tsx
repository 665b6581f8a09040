/**
 * The dashboard: log in (a login link or a token typed in), then the pages by path. A token
 * the server stops accepting sends the tab back to the login page with the server's reason.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized } from './api/client.js';
import { clearToken, getToken, setToken, takeTokenFromUrl } from './api/session.js';
import { NavBar } from './components/nav-bar.js';
import { matchPath, navigate, usePath } from './lib/router.js';
import { JobPage } from './pages/job-page.js';
import { LoginPage, refusal } from './pages/login-page.js';
import { RunPage } from './pages/run-page.js';
import { RunnersPage } from './pages/runners-page.js';
import { RunsPage } from './pages/runs-page.js';
import { TagsPage } from './pages/tags-page.js';

type Session = { state: 'checking' } | { state: 'in' } | { state: 'out'; message?: string };

export function App() {
  const [session, setSession] = useState<Session>(() => (getToken() ? { state: 'checking' } : { state: 'out' }));
  const path = usePath();

  useEffect(
    () =>
      onUnauthorized((error) => {
        clearToken();
        setSession({ state: 'out', message: refusal(error) });
      }),
    [],
  );

  // A login link opened in this tab while the app runs changes only the fragment: no reload.
  useEffect(() => {
    const onHash = () => takeTokenFromUrl() && setSession({ state: 'checking' });
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

  if (session.state === 'checking') return <p class="muted center">connecting…</p>;
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
          clearToken();
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
