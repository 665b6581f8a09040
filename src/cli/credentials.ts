/**
 * Where the CLI's server URL and token came from, in the words a user knows them by: a flag,
 * an environment variable, a profile of config.yml. A bad URL is a usage error naming its
 * source; a refused token is named by its source and what fixes it (client/errors.ts).
 * Tokens themselves are never printed.
 */
import type { TokenSource } from '../client/client-options.js';
import { configPath } from '../client/profiles.js';
import { UsageError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import { dstackServerUrlProblem } from '../core/server-url.js';

/** `value` when it is an http(s) URL; else a UsageError naming `source` (`--server`, `DSTACK_SERVER`). */
export function serverUrl(value: string, source: string): string {
  const problem = dstackServerUrlProblem(value);
  if (problem !== undefined) throw new UsageError(`invalid ${source} '${redactUrl(value)}': ${problem}`);
  return value;
}

/** A user's token from DSTACK_TOKEN. */
export const envToken: TokenSource = {
  what: 'DSTACK_TOKEN',
  fix: 'ask its admin for a new one and set DSTACK_TOKEN to it',
};

/** A user's token saved in profile `name` of `home`'s config.yml, for the server at `url`. */
export function profileToken(home: string, name: string, url: string): TokenSource {
  const flag = name === 'default' ? '' : ` --profile ${name}`;
  return {
    what: `the token of profile '${name}' (${configPath(home)})`,
    fix: `ask its admin for a new one and run: dstack config --server ${url} --token TOKEN${flag}`,
  };
}

/** The token given to `dstack config` (`--token`, `--token -`, or DSTACK_TOKEN), checked before it is saved. */
export function configToken(what: 'the --token' | 'DSTACK_TOKEN'): TokenSource {
  return { what, fix: 'check it, or ask its admin for a new one' };
}

/** A runner's token, from `--token` or DSTACK_TOKEN. */
export function runnerToken(fromFlag: boolean): TokenSource {
  return {
    what: fromFlag ? 'the --token' : 'DSTACK_TOKEN',
    fix: "give this runner's token, which an admin prints with: dstack runners token NAME (or runners add NAME)",
  };
}
