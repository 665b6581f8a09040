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
  LogsResponse,
  PreviewRequest,
  PruneResult,
  RunPreview,
  RegisterRunnerRequest,
  RunView,
  RunnerCommand,
  RunnerTransitionRequest,
  SubmitRunRequest,
} from '../core/api.js';
import { UnavailableError } from '../core/errors.js';
import { errorFromResponse } from './errors.js';
import { readSse } from './sse.js';

export interface ClientOptions {
  url: string;
  token: string;
}

export class Client {
  readonly url: string;
  private readonly token: string;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
  }

  private async request(
    method: string,
    path: string,
    init: { json?: unknown; body?: Buffer | ReadableStream; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let body: Buffer | ReadableStream | string | undefined = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body,
        signal: init.signal,
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new UnavailableError(
        `cannot reach the dstack server at ${this.url}: ${(e as Error).cause ?? (e as Error).message}`,
        { cause: e },
      );
    }
    if (!response.ok) {
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

  private async json<T>(method: string, path: string, json?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.request(method, path, { json, ...(signal ? { signal } : {}) });
    return (await response.json()) as T;
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

  async logs(target: string, since?: number): Promise<LogLine[]> {
    const q = new URLSearchParams({ target });
    if (since !== undefined) q.set('since', String(since));
    return (await this.json<LogsResponse>('GET', `/api/logs?${q}`)).entries;
  }

  /** Follow logs live; calls back per batch of lines and per job-status change; resolves when the jobs finish. */
  async followLogs(
    target: string,
    handlers: {
      since?: number;
      onLines: (lines: LogLine[]) => void;
      onJobs?: (jobs: JobRecord[]) => void;
      signal?: AbortSignal;
    },
  ): Promise<void> {
    const q = new URLSearchParams({ target });
    if (handlers.since !== undefined) q.set('since', String(handlers.since));
    const response = await this.request(
      'GET',
      `/api/logs/stream?${q}`,
      handlers.signal ? { signal: handlers.signal } : {},
    );
    try {
      for await (const event of readSse(response)) {
        if (event.event === 'log') handlers.onLines(JSON.parse(event.data) as LogLine[]);
        else if (event.event === 'jobs') handlers.onJobs?.(JSON.parse(event.data) as JobRecord[]);
        else if (event.event === 'end') return;
      }
    } catch (e) {
      if (handlers.signal?.aborted) throw e;
      throw new UnavailableError(`lost the log stream from ${this.url}: ${(e as Error).message}`, { cause: e });
    }
    if (!handlers.signal?.aborted) throw new UnavailableError(`the log stream from ${this.url} ended early`);
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
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  // Runners

  registerRunner(request: RegisterRunnerRequest & { jobIds: string[] }): Promise<{ ok: boolean }> {
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

  async putArtifacts(jobId: string, manifest: ArtifactManifest): Promise<void> {
    await this.json('PUT', `/api/runner/jobs/${jobId}/artifacts`, manifest);
  }
}
