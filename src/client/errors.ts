/** Turning HTTP error bodies back into the typed errors the server raised. */
import {
  ConflictError,
  DstackError,
  ForbiddenError,
  InternalError,
  InvalidError,
  NotFoundError,
  TooLargeError,
  TooManyRequestsError,
  StorageFullError,
  UnauthorizedError,
  UnavailableError,
  type ErrorCode,
} from '../core/errors.js';
import type { TokenSource } from './client-options.js';

/** Where the refused token came from (client-options.ts), and the server that refused it. */
type RefusedToken = TokenSource & { url: string };

/** What a reverse proxy answers while the server behind it is down or restarting: an outage, as the server's own 503. */
const PROXY_OUTAGES = new Set([502, 503, 504]);

export function errorFromResponse(status: number, body: unknown, refused?: RefusedToken): DstackError {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const message = error?.message ?? `server answered HTTP ${status}`;
  // The server's 401 speaks HTTP (an Authorization header); the user knows where the token came from.
  if (error?.code === 'unauthorized' && refused) {
    const cause = new UnauthorizedError(message);
    return new UnauthorizedError(`the server at ${refused.url} refused ${refused.what}; ${refused.fix}`, { cause });
  }
  switch (error?.code as ErrorCode | undefined) {
    case 'config':
    case 'usage':
    case 'invalid':
      return new InvalidError(message);
    case 'too_large':
      return new TooLargeError(message);
    case 'not_found':
      return new NotFoundError(message);
    case 'conflict':
      return new ConflictError(message);
    case 'unauthorized':
      return new UnauthorizedError(message);
    case 'forbidden':
      return new ForbiddenError(message);
    case 'unavailable':
      return Object.assign(new UnavailableError(message), { httpStatus: status, serverOutage: true as const });
    case 'storage_full':
      return new StorageFullError(message);
    case 'too_many_requests':
      return new TooManyRequestsError(message);
    default:
      return status >= 500
        ? Object.assign(new UnavailableError(`server error: ${message}`), {
            httpStatus: status,
            // A proxy in front of a server that is down or restarting; a 500 is a bug's.
            ...(PROXY_OUTAGES.has(status) ? { serverOutage: true as const } : {}),
          })
        : new InternalError(message);
  }
}

/**
 * An answer that no dstack server gives: another service at the URL (a 404 of its own), or a
 * web page where the API was expected (a URL with a path: `http://host:3000/dstack`). Said as
 * the URL's problem, not as a bug of dstack's.
 */
export function notDstackServer(
  url: string,
  request: string,
  answer: string,
  urlSource = "DSTACK_SERVER, or the profile's: dstack config list",
): NotFoundError {
  return new NotFoundError(
    `the server at ${url} is not a dstack server's address (${request} was answered with ${answer}): ` +
      `check the server's URL (${urlSource}); it is the server's root, with no path`,
  );
}

/** Whether `body` is an error as dstack's server writes it (`{ error: { code, message } }`). */
export function isDstackError(body: unknown): boolean {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string';
}
