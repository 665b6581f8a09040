/**
 * The error taxonomy. Every error a user can cause is a DstackError with a code;
 * the CLI and the HTTP server each map codes to exit codes / statuses in one place.
 */
export type ErrorCode =
  | 'config'
  | 'usage'
  | 'invalid'
  | 'too_large'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'storage_full'
  | 'too_many_requests'
  | 'internal';

export abstract class DstackError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in a config file something is; line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}

/** A problem in `.dstack/*.yaml`: the message is prefixed with file:line:column. */
export class ConfigError extends DstackError {
  readonly code = 'config' as const;
  constructor(
    readonly detail: string,
    readonly location?: SourceLocation,
    readonly field?: string,
  ) {
    super(location ? `${formatLocation(location)}: ${detail}` : detail);
  }
}

/** A bad command-line flag or argument. */
export class UsageError extends DstackError {
  readonly code = 'usage' as const;
}

/** A request that is well-formed but not valid (bad HTTP body, bad value). */
export class InvalidError extends DstackError {
  readonly code = 'invalid' as const;
}

/** A request body over what the server reads for that call (HTTP 413). */
export class TooLargeError extends DstackError {
  readonly code = 'too_large' as const;
}

export class NotFoundError extends DstackError {
  readonly code = 'not_found' as const;
}

/** The thing is not in a state that allows this (resume of a running job, duplicate tag). */
export class ConflictError extends DstackError {
  readonly code = 'conflict' as const;
}

export class UnauthorizedError extends DstackError {
  readonly code = 'unauthorized' as const;
}

export class ForbiddenError extends DstackError {
  readonly code = 'forbidden' as const;
}

/** A service dstack needs cannot be reached (server, docker engine). */
export class UnavailableError extends DstackError {
  readonly code = 'unavailable' as const;
  /** The HTTP status of the answer that said so (a 503, a proxy's 502), when an answer did. */
  httpStatus?: number;
  /**
   * The dstack server is out of reach, or said that a service it needs is (its database, its
   * storage): an outage it comes back from, whoever waits. Not a storage URL of its that the
   * caller cannot reach itself, nor a bug's 500.
   */
  serverOutage?: true;
}

/**
 * The server's storage (its database's disk, its blob or log folder) is full: not retried, as
 * an outage is, since it stays full until someone frees space.
 */
export class StorageFullError extends DstackError {
  readonly code = 'storage_full' as const;
}

/**
 * The caller holds as many of something as the server lets one user hold at once (log streams
 * followed): HTTP 429. Not retried as an outage: it lasts until the caller closes some.
 */
export class TooManyRequestsError extends DstackError {
  readonly code = 'too_many_requests' as const;
}

/** This is a bug in dstack: the message says what to report. */
export class InternalError extends DstackError {
  readonly code = 'internal' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(`internal error (this is a bug in dstack; please report it with --debug output): ${message}`, options);
  }
}

export function assertNever(value: never, what = 'value'): never {
  throw new InternalError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** Wrap anything thrown into an Error, keeping the original as `cause`. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(String(thrown), { cause: thrown });
}
