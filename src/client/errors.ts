/** Turning HTTP error bodies back into the typed errors the server raised. */
import {
  ConflictError,
  DstackError,
  ForbiddenError,
  InternalError,
  InvalidError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  type ErrorCode,
} from '../core/errors.js';

export function errorFromResponse(status: number, body: unknown): DstackError {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const message = error?.message ?? `server answered HTTP ${status}`;
  switch (error?.code as ErrorCode | undefined) {
    case 'config':
    case 'usage':
    case 'invalid':
      return new InvalidError(message);
    case 'not_found':
      return new NotFoundError(message);
    case 'conflict':
      return new ConflictError(message);
    case 'unauthorized':
      return new UnauthorizedError(message);
    case 'forbidden':
      return new ForbiddenError(message);
    case 'unavailable':
      return new UnavailableError(message);
    default:
      return status >= 500 ? new UnavailableError(`server error: ${message}`) : new InternalError(message);
  }
}
