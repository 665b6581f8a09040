/** The top bar: where to go, and logging out (forgetting this tab's token). */
import { Link } from './link.js';

export function NavBar({ path, onLogout }: { path: string; onLogout: () => void }) {
  const item = (href: string, label: string, active: boolean) => (
    <Link href={href} class={active ? 'active' : undefined}>
      {label}
    </Link>
  );
  return (
    <header class="nav">
      <Link href="/" class="brand">
        dstack
      </Link>
      <nav>
        {item('/', 'Runs', path === '/' || path.startsWith('/runs') || path.startsWith('/jobs'))}
        {item('/runners', 'Runners', path.startsWith('/runners'))}
        {item('/tags', 'Tags', path.startsWith('/tags'))}
      </nav>
      <button class="linklike logout" onClick={onLogout}>
        Log out
      </button>
    </header>
  );
}
