/**
 * A URL as it may be shown (messages, logs, the process title): its password masked. Settings
 * that are URLs (`--database`, an S3 endpoint) may carry one, and a mistyped one must not be
 * printed back in the error that says it is mistyped.
 */

/** A URL's password, to the authority's last `@` (as URL parsers, and node-postgres, take it). */
const PASSWORD = /^([^:/?#]+:\/\/[^:/?#@]*:)[^/?#]*@/;
/** In a URL no parser reads, where the password ends cannot be told: everything to the last `@`. */
const UNPARSABLE_PASSWORD = /^([^:/?#]+:\/\/[^:/?#@]*:).*@/;
/**
 * A query parameter that carries a secret: node-postgres, as libpq, takes `?password=` and
 * `?sslpassword=` as well as the user-info's password.
 */
const SECRET_PARAM = /([?&][^=&#]*(?:pass|secret|token)[^=&#]*=)[^&#]*/gi;

/**
 * `url` with its password masked, in the user-info and in query parameters named for one; an
 * unparsable or ambiguous URL has everything from its user's `:` to its last `@` masked.
 */
export function redactUrl(url: string): string {
  const masked =
    URL.canParse(url) && !atAfterHost(url)
      ? url.replace(PASSWORD, '$1***@')
      : url.replace(UNPARSABLE_PASSWORD, '$1***@');
  return masked.replace(SECRET_PARAM, '$1***');
}

/**
 * Whether `url` has an `@` after its host (`postgres://u:p@w/rd@db/x`): parsers take the first
 * `@` that ends the authority, so a password holding `@` and `/` unencoded parses as a host
 * (`w`) and a path: the rest of the password would be shown, and the host looked up. No
 * database name or endpoint path of ours holds an `@`; such a URL is refused, not read.
 */
export function atAfterHost(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { pathname, search, hash } = new URL(url);
  return `${pathname}${search}${hash}`.includes('@');
}
