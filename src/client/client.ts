/**
 * The typed HTTP client of the dstack API. The CLI and the runner reach the server
 * only through this.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type {
  ArtifactManifest,
  Assignment,
  ClaimRequest,
  HeartbeatRequest,
  JobRecord,
  JobView,
  LogEntry,
  LogLine,
  PreviewRequest,
  PruneResult,
  RunPreview,
  RunnerView,
  RegisterRunnerRequest,
  RunView,
  RunnerCommand,
  RunnerTransitionRequest,
  SubmitRunRequest,
} from '../core/api.js';
import type { UploadPlan, UploadPlanRequest } from '../core/blob-api.js';
import { UnavailableError } from '../core/errors.js';
import type { LogPage } from '../core/log-api.js';
import { directGet } from '../files/direct-http.js';
import type { CodeSource, RegisterRepoRequest, RepoView } from '../core/repos.js';
import { errorFromResponse } from './errors.js';
import { followStream, type FollowHandlers } from './log-follow.js';
import { retrying, type RetryPolicy } from './retry.js';

export interface ClientOptions {
  url: string;
  token: string;
  /** Retry requests that a dropped connection failed (runners); none: fail at once. */
  retry?: RetryPolicy;
  /**
   * How requests are sent; the global `fetch` by default. A runner inside the server passes
   * the server's own handler, which skips sockets but keeps the same routes, auth and checks.
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export class Client {
  readonly url: string;
  private readonly token: string;
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly send: (url: string, init: RequestInit) => Promise<Response>;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.retryPolicy = options.retry;
    this.send = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** Run `attempt` again while a dropped connection fails it, as long as this client retries. */
  retry<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.retryPolicy ? retrying(attempt, this.retryPolicy, signal) : attempt();
  }

  private async request(
    method: string,
    path: string,
    init: {
      json?: unknown;
      body?: Buffer | ReadableStream;
      signal?: AbortSignal;
      /** 'manual': a 3xx comes back as the response (blob downloads sent to storage). */
      redirect?: 'follow' | 'manual';
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let body: Buffer | ReadableStream | string | undefined = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      // Bytes, not a string: fetch would re-scan a string body (megabytes of log lines) before encoding it.
      body = Buffer.from(JSON.stringify(init.json));
    }
    let response: Response;
    try {
      response = await this.send(`${this.url}${path}`, {
        method,
        headers,
        body,
        signal: init.signal,
        ...(init.redirect ? { redirect: init.redirect } : {}),
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new UnavailableError(
        `cannot reach the dstack server at ${this.url}: ${(e as Error).cause ?? (e as Error).message}`,
        { cause: e },
      );
    }
    const redirected = init.redirect === 'manual' && response.status >= 300 && response.status < 400;
    if (!response.ok && !redirected) {
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw errorFromResponse(response.status, parsed);
    }
    return response;
  }

  /** A JSON request: its body can be sent again, so a dropped connection is retried. */
  private json<T>(method: string, path: string, json?: unknown, signal?: AbortSignal): Promise<T> {
    return this.retry(async () => {
      const response = await this.request(method, path, { json, ...(signal ? { signal } : {}) });
      return (await response.json()) as T;
    }, signal);
  }

  health(): Promise<{ ok: boolean; version: string; caller: string }> {
    return this.json('GET', '/api/health');
  }

  // Users

  submitRun(request: SubmitRunRequest): Promise<RunView> {
    return this.json('POST', '/api/runs', request);
  }

  previewRun(request: PreviewRequest): Promise<RunPreview> {
    return this.json('POST', '/api/runs/preview', request);
  }

  listRuns(last?: number): Promise<RunView[]> {
    return this.json('GET', `/api/runs${last === undefined ? '' : `?last=${last}`}`);
  }

  getRun(name: string): Promise<RunView> {
    return this.json('GET', `/api/runs/${encodeURIComponent(name)}`);
  }

  getJob(id: string): Promise<JobView> {
    return this.json('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }

  artifacts(jobId: string): Promise<ArtifactManifest> {
    return this.json('GET', `/api/jobs/${encodeURIComponent(jobId)}/artifacts`);
  }

  stop(target: string, abort: boolean, grace?: number): Promise<JobRecord[]> {
    return this.json('POST', '/api/stop', { target, abort, ...(grace === undefined ? {} : { grace }) });
  }

  tags(): Promise<RunView[]> {
    return this.json('GET', '/api/tags');
  }

  addTag(tag: string, run: string): Promise<RunView> {
    return this.json('POST', '/api/tags', { tag, run });
  }

  async deleteTag(tag: string): Promise<void> {
    await this.json('DELETE', `/api/tags/${encodeURIComponent(tag)}`);
  }

  prune(olderThanMs: number): Promise<PruneResult> {
    return this.json('POST', '/api/prune', { olderThanMs });
  }

  resume(target: string): Promise<JobRecord[]> {
    return this.json('POST', '/api/resume', { target });
  }

  /** Every line of the target's log (use `logPages` to handle a long log page by page). */
  async logs(target: string, since?: number): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    for await (const page of this.logPages(target, since)) lines.push(...page);
    return lines;
  }

  /** The target's log in time order, one page at a time: memory holds one page, however long the log. */
  async *logPages(target: string, since?: number): AsyncGenerator<LogLine[]> {
    let cursor = '';
    for (;;) {
      const q = new URLSearchParams({ target, cursor });
      if (since !== undefined) q.set('since', String(since));
      const page = await this.json<LogPage>('GET', `/api/logs?${q}`);
      if (page.entries.length > 0) yield page.entries;
      if (!page.more) return;
      cursor = page.cursor;
    }
  }

  /**
   * Follow logs live; calls back per batch of lines and per job-status change; resolves when
   * the jobs finish. A dropped stream is resumed where it broke (src/client/log-follow.ts).
   */
  async followLogs(target: string, handlers: FollowHandlers): Promise<void> {
    const open = (cursor: string) => {
      const q = new URLSearchParams({ target, cursor });
      if (handlers.since !== undefined) q.set('since', String(handlers.since));
      return this.request('GET', `/api/logs/stream?${q}`, handlers.signal ? { signal: handlers.signal } : {});
    };
    await followStream(this.url, open, handlers);
  }

  // Team

  users(): Promise<{ name: string; admin: boolean; createdAt: number }[]> {
    return this.json('GET', '/api/users');
  }

  addUser(name: string): Promise<{ name: string; token: string }> {
    return this.json('POST', '/api/users', { name });
  }

  async deleteUser(name: string): Promise<void> {
    await this.json('DELETE', `/api/users/${encodeURIComponent(name)}`);
  }

  runners(): Promise<RunnerView[]> {
    return this.json('GET', '/api/runners');
  }

  addRunner(name: string): Promise<{ name: string; token: string }> {
    return this.json('POST', '/api/runners', { name });
  }

  async deleteRunner(name: string): Promise<void> {
    await this.json('DELETE', `/api/runners/${encodeURIComponent(name)}`);
  }

  // Blobs

  async missingBlobs(digests: string[]): Promise<string[]> {
    return (await this.json<{ missing: string[] }>('POST', '/api/blobs/missing', { digests })).missing;
  }

  async putBlob(digest: string, content: Readable | Buffer): Promise<void> {
    const body = Buffer.isBuffer(content) ? content : (Readable.toWeb(content) as unknown as ReadableStream);
    await this.request('PUT', `/api/blobs/${digest}`, { body });
  }

  async getBlob(digest: string): Promise<Readable> {
    const response = await this.request('GET', `/api/blobs/${digest}`);
    return bodyStream(response);
  }

  // Blob transfer: upload plans, packs of small blobs, big blobs straight from storage (src/files/transfer.ts)

  /** Which of these blobs the server lacks, with a presigned upload for each big one where storage allows. */
  planUploads(blobs: UploadPlanRequest['blobs']): Promise<UploadPlan> {
    return this.json('POST', '/api/blobs/uploads', { blobs });
  }

  /** Upload a pack (a tar of digest-named entries, src/files/pack.ts); each entry is verified. */
  async putPack(pack: Readable): Promise<{ stored: number; bytes: number }> {
    const body = Readable.toWeb(pack) as unknown as ReadableStream;
    const response = await this.request('POST', '/api/blobs/pack', { body });
    return (await response.json()) as { stored: number; bytes: number };
  }

  /** Download small blobs as one pack, in the order asked. */
  async getPack(digests: string[]): Promise<Readable> {
    const response = await this.request('POST', '/api/blobs/pack/get', { json: { digests } });
    return bodyStream(response);
  }

  /** A blob's content: from the server, or straight from storage when the server sends the client there. */
  async openBlob(digest: string): Promise<Readable> {
    const response = await this.request('GET', `/api/blobs/${digest}?direct=1`, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      // The token stays here: storage gets only the presigned URL.
      return directGet({ url: new URL(location, this.url).toString(), headers: {} });
    }
    return bodyStream(response);
  }

  // Runners

  registerRunner(request: RegisterRunnerRequest & { jobIds: string[] }): Promise<{ ok: boolean; heartbeatMs: number }> {
    return this.json('POST', '/api/runner/register', request);
  }

  async claim(request: ClaimRequest, signal?: AbortSignal): Promise<Assignment | null> {
    return (await this.json<{ assignment: Assignment | null }>('POST', '/api/runner/claim', request, signal))
      .assignment;
  }

  async heartbeat(request: HeartbeatRequest, signal?: AbortSignal): Promise<RunnerCommand[]> {
    return (await this.json<{ commands: RunnerCommand[] }>('POST', '/api/runner/heartbeat', request, signal)).commands;
  }

  transition(
    jobId: string,
    request: RunnerTransitionRequest,
  ): Promise<{ ok: true; job: JobRecord } | { ok: false; actual: JobRecord['status'] }> {
    return this.json('POST', `/api/runner/jobs/${jobId}/transition`, request);
  }

  async appendLogs(jobId: string, entries: LogEntry[]): Promise<number> {
    return (await this.json<{ lastSeq: number }>('POST', `/api/runner/jobs/${jobId}/logs`, { entries })).lastSeq;
  }

  /** Runners: the assignment of a job already given to this runner (`dstack runner exec`, one job per process). */
  async runnerAssignment(jobId: string): Promise<Assignment> {
    return (await this.json<{ assignment: Assignment }>('GET', `/api/runner/jobs/${jobId}/assignment`)).assignment;
  }

  async putArtifacts(jobId: string, manifest: ArtifactManifest): Promise<void> {
    await this.json('PUT', `/api/runner/jobs/${jobId}/artifacts`, manifest);
  }

  // Repos

  registerRepo(request: RegisterRepoRequest): Promise<RepoView> {
    return this.json('POST', '/api/repos', request);
  }

  listRepos(): Promise<RepoView[]> {
    return this.json('GET', '/api/repos');
  }

  /** Runners: how to clone the code of a job this runner holds (credentials in the clear), or null. */
  async codeSource(jobId: string): Promise<CodeSource | null> {
    return (await this.json<{ source: CodeSource | null }>('GET', `/api/runner/jobs/${jobId}/code-source`)).source;
  }
}

/**
 * A response body as a Node stream. A connection that drops before the caller starts
 * reading errors the stream with no listener yet, which would crash the process; the
 * listener here stops that, and the caller still gets the error (pipeline and async
 * iteration both throw a stream's stored error).
 */
function bodyStream(response: Response): Readable {
  const stream = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  stream.on('error', () => {});
  return stream;
}
