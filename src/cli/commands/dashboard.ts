/** `dstack dashboard`: print the dashboard's login link and open it in a browser when one is at hand. */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
  if (options.open) await openInBrowser(link);
  return 0;
}

/** The token `connect` used, in the same order: DSTACK_TOKEN, the active profile, the local server's. */
async function loginToken(settings: Settings): Promise<string | undefined> {
  if (settings.server) return settings.server.token;
  const profile = await activeProfile(settings.home, settings.profile);
  return profile ? profile.token : (await readLocalServer(settings.home))?.token;
}

/** How long the redirect file stays for the browser to read it, ms. */
const REDIRECT_KEPT_MS = 30_000;

/**
 * Best effort: no opener (a server, a container) is fine, the link is printed. The opener gets
 * a file that redirects to the link, not the link: a command line is every local user's to
 * read (ps), the link holds the token. Jupyter opens its login link the same way.
 */
async function openInBrowser(link: string): Promise<void> {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? undefined : 'xdg-open';
  if (!opener) return;
  const dir = await mkdtemp(join(tmpdir(), 'dstack-dashboard-')); // 0700
  const page = join(dir, 'dashboard.html');
  await writeFile(page, redirectPage(link), { mode: 0o600 });
  const child = spawn(opener, [pathToFileURL(page).href], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  // This command exits now and the browser may take seconds to start: a helper removes the file later.
  const remover = spawn(process.execPath, ['-e', REMOVE_LATER, dir, String(REDIRECT_KEPT_MS)], {
    detached: true,
    stdio: 'ignore',
  });
  remover.on('error', () => {});
  remover.unref();
}

const REMOVE_LATER =
  "setTimeout(() => require('node:fs').rmSync(process.argv[1], { recursive: true, force: true }), +process.argv[2])";

/** A page that goes on to `link` at once (a script, else a refresh, else a link to click). */
function redirectPage(link: string): string {
  const attribute = link.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>dstack dashboard</title>\n' +
    `<meta http-equiv="refresh" content="0;url=${attribute}">\n` +
    `<script>location.replace(${JSON.stringify(link).replace(/</g, '\\u003c')})</script>\n` +
    `</head><body><a href="${attribute}">Open the dstack dashboard</a></body></html>\n`
  );
}
