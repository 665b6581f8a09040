/**
 * A URL as it may be shown (messages, logs, the process title): its password masked. Settings
 * that are URLs (`--database`, an S3 endpoint) may carry one, and a mistyped one must not be
 * printed back in the error that says it is mistyped.
 */

/** A URL's password, to the authority's last `@` (as URL parsers, and node-postgres, take it). */
const PASSWORD = /^([^:/?#]+:\/\/[^:/?#@]+:)[^/?#]*@/;
/** In a URL no parser reads, where the password ends cannot be told: everything to the last `@`. */
const UNPARSABLE_PASSWORD = /^([^:/?#]+:\/\/[^:/?#@]*:).*@/;

/** `url` with its password masked; an unparsable URL has everything from its user's `:` to its last `@` masked. */
export function redactUrl(url: string): string {
  return URL.canParse(url) ? url.replace(PASSWORD, '$1***@') : url.replace(UNPARSABLE_PASSWORD, '$1***@');
}
