/**
 * What every caller of the dstack API shares, the CLI (client.ts) and runners
 * (runner-client.ts) alike: the transport, retries, errors, the health check, and
 * content-addressed blobs, which both upload and download (src/files/transfer.ts).
 */
import type { Readable } from 'node:stream';
import type { UploadPlan, UploadPlanRequest } from '../core/blob-api.js';
import { StorageFullError, UnavailableError } from '../core/errors.js';
import { directGet } from '../files/direct-http.js';
import type { ClientOptions, LocalStore, TokenSource } from './client-options.js';
import { errorFromResponse, isDstackError, notDstackServer } from './errors.js';
import { fetchTransport, nodeTransport, readJson, readText, type HttpResponse, type Transport } from './http.js';
import { isTransient, retrying, type RetryPolicy, type RetryWatcher } from './retry.js';

/** A request's options beyond its method and path. */
export interface RequestInit {
  json?: unknown;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** The `Accept` header. */
  accept?: string;
  /** A 3xx comes back as the response (blob downloads sent to storage); otherwise it is an error. */
  redirects?: boolean;
}

export class ApiClient {
  readonly url: string;
  private readonly token: string;
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly send: Transport;
  readonly localBlobs: string | undefined;
  readonly localStore: LocalStore | undefined;
  private readonly tokenSource: TokenSource | undefined;
  private readonly urlSource: string | undefined;
  /** The local server's data folder (ClientOptions.localServer). */
  private readonly localData: string | undefined;

  constructor(options: ClientOptions) {
    this.localData = options.localServer?.dataDir;
    this.url = options.url.replace(/\/+$/, '');
    this.localBlobs = options.localBlobs;
    this.localStore = options.localStore;
    this.token = options.token;
    this.retryPolicy = options.retry;
    this.tokenSource = options.tokenSource;
    this.urlSource = options.urlSource;
    this.send = options.fetch ? fetchTransport(options.fetch) : nodeTransport;
  }

  /** Whether this client retries what fails through an outage (a runner's does, the CLI's not). */
  get retries(): boolean {
    return this.retryPolicy !== undefined;
  }

  /**
   * Run `attempt` again while its failure is `retryable` (by default a dropped connection), as
   * long as this client retries; `what` names the request in what the policy says
   * (`POST /api/runner/claim`); `watcher` hears of this request's retries too.
   */
  retry<T>(
    attempt: () => Promise<T>,
    signal?: AbortSignal,
    what?: string,
    retryable = isTransient,
    watcher?: RetryWatcher,
  ): Promise<T> {
    return this.retryPolicy ? retrying(attempt, this.retryPolicy, signal, what, retryable, watcher) : attempt();
  }

  /** A request; an error status throws. */
  protected async request(method: string, path: string, init: RequestInit = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.accept) headers.accept = init.accept;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(init.json));
    }
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    let response: HttpResponse;
    try {
      response = await this.send({
        method,
        url: `${this.url}${path}`,
        headers,
        ...(body ? { body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw Object.assign(
        new UnavailableError(
          `cannot reach the dstack server at ${this.url}: ${(e as Error).cause ?? (e as Error).message}`,
          { cause: e },
        ),
        { serverOutage: true as const },
      );
    }
    if (response.status >= 300 && response.status < 400 && !init.redirects) {
      response.body.destroy();
      throw new UnavailableError(
        `the dstack server at ${this.url} answered ${method} ${path.split('?')[0]} with a redirect to '${response.header('location') ?? ''}': point the client at the server's own address`,
      );
    }
    if (response.status >= 400) {
      const text = await readText(response);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (response.status < 500 && !isDstackError(parsed)) {
        throw notDstackServer(this.url, `${method} ${path.split('?')[0]}`, `HTTP ${response.status}`, this.urlSource);
      }
      const error = errorFromResponse(
        response.status,
        parsed,
        this.tokenSource && { ...this.tokenSource, url: this.url },
      );
      // The local server's storage is this user's own disk: they are the one to free it, and it has a place.
      if (error instanceof StorageFullError && this.localData !== undefined) {
        throw new StorageFullError(
          `the disk holding ${this.localData} (the local dstack server's data) is full: free space on it, ` +
            'or set DSTACK_HOME to a folder on another disk',
          { cause: error },
        );
      }
      throw error;
    }
    return response;
  }

  /** A JSON request: its body can be sent again, so a dropped connection is retried. */
  protected json<T>(
    method: string,
    path: string,
    json?: unknown,
    signal?: AbortSignal,
    retryable = isTransient,
    watcher?: RetryWatcher,
  ): Promise<T> {
    return this.retry(
      async () => {
        const response = await this.request(method, path, { json, ...(signal ? { signal } : {}) });
        return readJson<T>(response).catch((e: unknown) => {
          if (!(e instanceof SyntaxError)) throw e;
          const request = `${method} ${path.split('?')[0]}`;
          const answer = `something other than dstack's JSON (${e.message.slice(0, 60)})`;
          throw notDstackServer(this.url, request, answer, this.urlSource);
        });
      },
      signal,
      `${method} ${path.split('?')[0]}`,
      retryable,
      watcher,
    );
  }

  /** The server's version and the name of the token's owner (a user or a runner). */
  health(): Promise<{ ok: boolean; version: string; caller: string }> {
    return this.json('GET', '/api/health');
  }

  // Blobs

  async missingBlobs(digests: string[], signal?: AbortSignal): Promise<string[]> {
    return (await this.json<{ missing: string[] }>('POST', '/api/blobs/missing', { digests }, signal)).missing;
  }

  async putBlob(digest: string, content: Readable | Buffer): Promise<void> {
    (await this.request('PUT', `/api/blobs/${digest}`, { body: content })).body.resume();
  }

  async getBlob(digest: string): Promise<Readable> {
    return (await this.request('GET', `/api/blobs/${digest}`)).body;
  }

  // Blob transfer: upload plans, packs of small blobs, big blobs straight from storage (src/files/transfer.ts)

  /** Which of these blobs the server lacks, with a presigned upload for each big one where storage allows. */
  planUploads(blobs: UploadPlanRequest['blobs'], watcher?: RetryWatcher): Promise<UploadPlan> {
    return this.json('POST', '/api/blobs/uploads', { blobs }, undefined, isTransient, watcher);
  }

  /** Upload a pack (a tar of digest-named entries, src/files/pack.ts); each entry is verified. */
  async putPack(pack: Readable): Promise<{ stored: number; bytes: number }> {
    const response = await this.request('POST', '/api/blobs/pack', { body: pack });
    return readJson<{ stored: number; bytes: number }>(response);
  }

  /** Download small blobs as one pack, in the order asked; `signal` ends the request and its stream. */
  async getPack(digests: string[], signal?: AbortSignal): Promise<Readable> {
    return (await this.request('POST', '/api/blobs/pack/get', { json: { digests }, ...(signal && { signal }) })).body;
  }

  /** A blob's content: from the server, or straight from storage when the server sends the client there. */
  async openBlob(digest: string, signal?: AbortSignal): Promise<Readable> {
    const response = await this.request('GET', `/api/blobs/${digest}?direct=1`, {
      redirects: true,
      ...(signal && { signal }),
    });
    const location = response.header('location');
    if (response.status >= 300 && response.status < 400 && location) {
      response.body.destroy();
      // The token stays here: storage gets only the presigned URL.
      return directGet({ url: new URL(location, this.url).toString(), headers: {} });
    }
    return response.body;
  }
}
