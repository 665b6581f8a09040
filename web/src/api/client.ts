/**
 * The dashboard's only way to the server: the same authenticated /api the CLI uses, with
 * the session's bearer token on every call. What the API refuses, the dashboard shows refused.
 */
import type { JobView, RunnerView, RunWorkflow } from '../../../src/core/api.js';
import type { ArtifactManifest, JobRecord, RunView } from '../../../src/core/records.js';
import { getToken } from './session.js';

/** An error the API answered with (`{ error: { code, message } }`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (error: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the server refuses the session's token (401): the app goes back to its login page. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  signal?: AbortSignal;
  /** Use this token instead of the session's (logging in). */
  token?: string;
}

/** fetch `/api{path}` with the token; throws ApiError unless the answer is 2xx. */
export async function apiFetch(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? getToken() ?? ''}` };
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
      signal: options.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'unavailable', unreachable());
  }
  if (response.ok) return response;
  const error = await errorOf(response);
  if (error.status === 401 && options.token === undefined) unauthorizedListeners.forEach((l) => l(error));
  throw error;
}

/**
 * The browser's own words ("Failed to fetch") say nothing. A local server started anew (an
 * upgrade restarts it) listens on another port, so a tab open on the old one can never reach it again.
 */
const unreachable = () =>
  `cannot reach the dstack server at ${window.location.origin}: is it running? ` +
  "A local server that was started again listens at a new address: run 'dstack dashboard' for its link.";

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(response.status, body.error.code ?? 'error', body.error.message);
  } catch {
    // not JSON: a proxy's page, say
  }
  return new ApiError(response.status, 'error', `the server answered ${response.status} ${response.statusText}`.trim());
}

async function json<T>(path: string, options?: RequestOptions): Promise<T> {
  return (await (await apiFetch(path, options)).json()) as T;
}

const post = <T>(path: string, body: unknown) => json<T>(path, { method: 'POST', json: body });

/** The API calls the dashboard makes, typed with the server's own body types. */
export const api = {
  /** The newest `last` runs that match `filters` (each absent or '': any), as `dstack status` asks for them. */
  runs: (last: number, filters: RunFilters, signal?: AbortSignal) =>
    json<RunView[]>(`/runs?${runsQuery(last, filters)}`, { signal }),
  /** Each workflow the runs have, with its project: old runs' too. */
  workflows: (signal?: AbortSignal) => json<RunWorkflow[]>('/workflows', { signal }),
  run: (name: string, signal?: AbortSignal) => json<RunView>(`/runs/${encodeURIComponent(name)}`, { signal }),
  job: (id: string, signal?: AbortSignal) => json<JobView>(`/jobs/${encodeURIComponent(id)}`, { signal }),
  artifacts: (id: string, signal?: AbortSignal) =>
    json<ArtifactManifest>(`/jobs/${encodeURIComponent(id)}/artifacts`, { signal }),
  runners: (signal?: AbortSignal) => json<RunnerView[]>('/runners', { signal }),
  /** Tagged runs, and the unfinished runs a tag is promised to (`dstack run --tag`: `tag` unset, `tagOnDone` set). */
  tags: (signal?: AbortSignal) => json<RunView[]>('/tags?promised=1', { signal }),
  stop: (target: string, abort: boolean) => post<JobRecord[]>('/stop', { target, abort }),
  resume: (target: string) => post<JobRecord[]>('/resume', { target }),
  tag: (tag: string, run: string) => post<RunView>('/tags', { tag, run }),
  /** A stored file's content; `onBytes` hears how many bytes have arrived so far, as they arrive. */
  blob: async (digest: string, onBytes?: (bytes: number) => void) =>
    readBlob(await apiFetch(`/blobs/${digest}`), onBytes),
  /** Check a token before keeping it: it must be a user token the server knows. */
  checkToken: (token: string) => json<RunView[]>('/runs?last=1', { token }),
};

/** The runs list's filters, as `GET /api/runs` takes them. */
export interface RunFilters {
  status?: string;
  workflow?: string;
  project?: string;
}

function runsQuery(last: number, filters: RunFilters): string {
  const query = new URLSearchParams({ last: String(last) });
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  return query.toString();
}

async function readBlob(response: Response, onBytes?: (bytes: number) => void): Promise<Blob> {
  if (!response.body || !onBytes) return response.blob();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
    onBytes(bytes);
  }
  return new Blob(chunks, { type: response.headers.get('content-type') ?? '' });
}
