/** The command that starts a runner, as `runners add` and `runners token` print it. */
import { isLoopback } from '../core/server-url.js';

/**
 * `DSTACK_TOKEN=… dstack runner start --server URL`, indented, and, when URL is a loopback
 * address (this CLI's own view of the server), a line saying another machine needs another:
 * started there as printed, a runner would wait for a server that is never up.
 */
export function runnerStartLines(token: string, url: string): string {
  const command = `  DSTACK_TOKEN=${token} dstack runner start --server ${url}\n`;
  if (!isLoopback(new URL(url).hostname)) return command;
  return (
    command +
    `  (${url} reaches this machine only: on another machine, replace it with an address of this server that machine can reach)\n`
  );
}
