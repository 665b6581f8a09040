/**
 * An S3 failure that is an outage of the storage (it answers 5xx or throttles, is silent, or
 * cannot be reached) as the UnavailableError the server answers with a 503, naming the bucket
 * and the endpoint (never the credentials). Clients retry a 503 as an outage of the server: a
 * runner waits it out rather than fail a finished job. Before, an S3 503 after the SDK's tries
 * was an `Unknown: UnknownError` (a HEAD has no body to name it), answered as a bug's 500.
 */
import { UnavailableError } from '../../core/errors.js';
import { DROPPED_CONNECTION_CODES } from '../../core/network-errors.js';
import { errorWithCode } from '../../core/disk-errors.js';

const NETWORK_CODES = new Set([...DROPPED_CONNECTION_CODES, 'ENOTFOUND']);

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** Why `error` is an outage, in words, or undefined when it is not one (a missing key, a refused request). */
function outageReason(error: unknown, deadlineMs: number | undefined): string | undefined {
  const e = error as SdkError | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const status = e.$metadata?.httpStatusCode;
  const tries = e.$metadata?.attempts ?? 1;
  const times = tries > 1 ? ` (${tries} tries)` : '';
  if (status !== undefined && (status >= 500 || status === 429)) {
    const code = e.name && e.name !== 'Unknown' && e.name !== 'UnknownError' ? ` ${e.name}` : '';
    return `answered HTTP ${status}${code}${times}`;
  }
  if (e.name === 'AbortError' && deadlineMs !== undefined) return `gave no answer in ${deadlineMs / 1000} s`;
  if (e.name === 'TimeoutError') return `went silent (${e.message ?? 'timed out'})${times}`;
  const network = errorWithCode(error, NETWORK_CODES);
  if (network) return `cannot be reached (${network.code})`;
  return undefined;
}

/**
 * The UnavailableError for an outage of the bucket `where` names (`S3 bucket 'b' at http://…`),
 * or undefined when `error` is not one. `deadlineMs`: the request had this long in all, so an
 * abort is that deadline passing.
 */
export function s3Outage(error: unknown, where: string, deadlineMs?: number): UnavailableError | undefined {
  const why = outageReason(error, deadlineMs);
  if (why === undefined) return undefined;
  return new UnavailableError(`the artifact storage is unavailable: ${where} ${why}`, { cause: error });
}
