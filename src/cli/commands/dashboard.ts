/** `dstack dashboard`: print the dashboard's login link and open it in a browser when one is at hand. */
import { spawn } from 'node:child_process';
import { readLocalServer } from '../../client/embedded.js';
import { activeProfile } from '../../client/profiles.js';
import { UnavailableError } from '../../core/errors.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';

export async function dashboardCommand(options: { open: boolean }, settings: Settings): Promise<number> {
  const client = await connect(settings);
  // A refused token fails here, with the CLI's message, rather than on a login page.
  await client.listRuns({ last: 1 });
  const token = await loginToken(settings);
  if (!token) throw new UnavailableError(`the local server's token is missing; restart it: dstack server stop`);
  // The token goes in the fragment, which browsers never send: the page moves it to the tab's
  // sessionStorage and strips it from the address bar and history.
  const link = `${client.url}/#token=${encodeURIComponent(token)}`;
  process.stdout.write(`dashboard: ${client.url}/\nlog in with this link (it holds your token): ${link}\n`);
  if (options.open) openInBrowser(link);
  return 0;
}

/** The token `connect` used, in the same order: DSTACK_TOKEN, the active profile, the local server's. */
async function loginToken(settings: Settings): Promise<string | undefined> {
  if (settings.server) return settings.server.token;
  const profile = await activeProfile(settings.home, settings.profile);
  return profile ? profile.token : (await readLocalServer(settings.home))?.token;
}

/** Best effort: no opener (a server, a container) is fine, the link is printed. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? undefined : 'xdg-open';
  if (!opener) return;
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
}
