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

async function configured(settings: Settings): Promise<Client | undefined> {
  if (settings.server) {
    const url = serverUrl(settings.server.url, 'DSTACK_SERVER');
    return new Client({ url, token: settings.server.token, tokenSource: envToken });
  }
  // Not a fall-through to a profile or the local server: this command would act on another server than meant.
  if (settings.serverUrl)
    throw new UsageError(
      `DSTACK_SERVER is set (${settings.serverUrl}) but DSTACK_TOKEN is not: set both, or unset DSTACK_SERVER`,
    );
  const profile = await activeProfile(settings.home, settings.profile);
  if (!profile) return undefined;
  const tokenSource = profileToken(settings.home, profile.name, profile.server);
  return new Client({ url: profile.server, token: profile.token, tokenSource });
}

export async function connect(settings: Settings): Promise<Client> {
  const client = await configured(settings);
  if (client) return client;
  await replaceStaleServer(settings.home, (line) => process.stderr.write(`[dstack] ${line}\n`));
  return ensureLocalServer(settings.home);
}

/** The configured server, or the local one if it is already running: for looking, never starting one. */
export async function connectIfRunning(settings: Settings): Promise<Client | undefined> {
  return (await configured(settings)) ?? healthy(settings.home);
}
