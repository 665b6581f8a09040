/** Which server the CLI talks to: DSTACK_SERVER/DSTACK_TOKEN, else the embedded local server. */
import { Client } from '../client/client.js';
import { ensureLocalServer, healthy } from '../client/embedded.js';
import type { Settings } from '../settings.js';

export async function connect(settings: Settings): Promise<Client> {
  if (settings.server) return new Client(settings.server);
  return ensureLocalServer(settings.home);
}

/** The configured server, or the local one if it is already running: for looking, never starting one. */
export async function connectIfRunning(settings: Settings): Promise<Client | undefined> {
  if (settings.server) return new Client(settings.server);
  return healthy(settings.home);
}
