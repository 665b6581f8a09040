/**
 * Which server the CLI talks to: DSTACK_SERVER/DSTACK_TOKEN, else the profile chosen by
 * DSTACK_PROFILE or `dstack config`, else the embedded local server.
 */
import { Client } from '../client/client.js';
import { ensureLocalServer, healthy } from '../client/embedded.js';
import { activeProfile } from '../client/profiles.js';
import { UsageError } from '../core/errors.js';
import type { Settings } from '../settings.js';
import { envToken, profileToken, serverUrl } from './credentials.js';
import { replaceStaleServer } from './local-server.js';

/** How the CLI reached its server: which token it holds, and where that token came from. */
export type Connection =
  | { via: 'env'; client: Client; token: string }
  | { via: 'profile'; client: Client; token: string; profile: string }
  | { via: 'local'; client: Client };

async function configured(settings: Settings): Promise<Connection | undefined> {
  if (settings.server) {
    const url = serverUrl(settings.server.url, 'DSTACK_SERVER');
    const { token } = settings.server;
    return { via: 'env', client: new Client({ url, token, tokenSource: envToken }), token };
  }
  // Not a fall-through to a profile or the local server: this command would act on another server than meant.
  if (settings.serverUrl)
    throw new UsageError(
      `DSTACK_SERVER is set (${settings.serverUrl}) but DSTACK_TOKEN is not: set both, or unset DSTACK_SERVER`,
    );
  // Nor a token taken for another server's (the profile's, the local one's) in silence.
  if (settings.token)
    throw new UsageError(
      'DSTACK_TOKEN is set but DSTACK_SERVER is not: set both, save them as a profile ' +
        '(dstack config --server URL, which reads DSTACK_TOKEN), or unset DSTACK_TOKEN',
    );
  const profile = await activeProfile(settings.home, settings.profile);
  if (!profile) return undefined;
  const tokenSource = profileToken(settings.home, profile.name, profile.server);
  const client = new Client({ url: profile.server, token: profile.token, tokenSource });
  return { via: 'profile', client, token: profile.token, profile: profile.name };
}

/** The server to use, and how it was reached (commands that change the CLI's own token need to know). */
export async function connectVia(settings: Settings): Promise<Connection> {
  const connection = await configured(settings);
  if (connection) return connection;
  await replaceStaleServer(settings.home, (line) => process.stderr.write(`[dstack] ${line}\n`));
  return { via: 'local', client: await ensureLocalServer(settings.home) };
}

export async function connect(settings: Settings): Promise<Client> {
  return (await connectVia(settings)).client;
}

/** The configured server, or the local one if it is already running: for looking, never starting one. */
export async function connectIfRunning(settings: Settings): Promise<Client | undefined> {
  return (await configured(settings))?.client ?? healthy(settings.home);
}
