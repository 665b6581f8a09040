/** Names of users and runners (`dstack users add`, `dstack runners add`): the one rule the CLI and the server check. */
import { UsageError } from './errors.js';

export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const ACCOUNT_NAME_RULE =
  "lower-case letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64";

/** `name` of a new `what` ('user', 'runner'); UsageError saying the rule when it breaks it. */
export function checkAccountName(name: string, what: string): string {
  if (!ACCOUNT_NAME.test(name)) throw new UsageError(`invalid ${what} name '${name}': use ${ACCOUNT_NAME_RULE}`);
  return name;
}
