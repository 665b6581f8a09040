/** Tag names (`dstack run --tag`, `dstack tags add`): the one rule the CLI and the server check. */
import { UsageError } from './errors.js';

/** No ':' (depends-on `train:TAG` splits on it) and no '/': letters, digits, '.', '_', '-'. */
export const TAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const TAG_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100";

/** `tag` as given for `what` (a flag or an argument); UsageError naming both when it breaks the rule. */
export function checkTagName(tag: string, what: string): string {
  if (!TAG_NAME.test(tag)) throw new UsageError(`invalid tag '${tag}' (${what}): use ${TAG_RULE}`);
  return tag;
}
