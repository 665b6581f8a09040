/**
 * The typed HTTP client of the dstack API. The CLI and the runner reach the server
 * only through this.
 */
import type { Readable } from 'node:stream';
import type {
  ArtifactManifest,
  Assignment,
  ClaimRequest,
  HeartbeatRequest,
  JobRecord,
  JobView,
  LogEntry,
  PreviewRequest,
  PruneResult,
  RunPreview,
  RunnerView,
  DrainRunnerRequest,
  StopOwnJobRequest,
  LeaveRunnerRequest,
  RegisterRunnerRequest,
  RunView,
  RunnerCommand,
  RunnerTransitionAnswer,
  RunnerTransitionRequest,
  SubmitRunRequest,
  TaggedRun,
} from '../core/api.js';
import type { UploadPlan, UploadPlanRequest } from '../core/blob-api.js';
import { UnavailableError } from '../core/errors.js';
import { encodeLogBatch } from '../core/log-batch.js';
import type { OutputLine } from '../core/log-frames.js';
import { directGet } from '../files/direct-http.js';
import type { CodeSource, RegisterRepoRequest, RepoView } from '../core/repos.js';
import type { ClientOptions, LocalStore, TokenSource } from './client-options.js';
import { errorFromResponse } from './errors.js';
import { fetchTransport, nodeTransport, readJson, readText, type HttpResponse, type Transport } from './http.js';
import { followStream, type FollowHandlers } from './log-follow.js';
import { isAlive } from './process-alive.js';
import { LOG_ACCEPT, readLogPage } from './log-reading.js';
import { isReportRetryable, isTransient, retrying, type RetryPolicy } from './retry.js';

export class Client {
  readonly url: string;
  private readonly token: string;
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly send: Transport;
  readonly localBlobs: string | undefined;
  readonly localStore: LocalStore | undefined;
  private readonly tokenSource: TokenSource | undefined;
  private readonly localServer: { pid: number } | undefined;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.localBlobs = options.localBlobs;
    this.localStore = options.localStore;
    this.token = options.token;
    this.retryPolicy = options.retry;
    this.tokenSource = options.tokenSource;
    this.localServer = options.localServer;
    this.send = options.fetch ? fetchTransport(options.fetch) : nodeTransport;
  }

  /**
   * Run `attempt` again while its failure is `retryable` (by default a dropped connection), as
   * long as this client retries; `what` names the request in what the policy says
   * (`POST /api/runner/claim`).
   */
  retry<T>(attempt: () => Promise<T>, signal?: AbortSignal, what?: string, retryable = isTransient): Promise<T> {
    return this.retryPolicy ? retrying(attempt, this.retryPolicy, signal, what, retryable) : attempt();
  }

  /** A request; an error status throws. */
  private async request(
    method: string,
    path: string,
    init: {
      json?: unknown;
      body?: Buffer | Readable;
      signal?: AbortSignal;
      /** The `Accept` header. */
      accept?: string;
      /** A 3xx comes back as the response (blob downloads sent to storage); otherwise it is an error. */
      redirects?: boolean;
    } = {},
  ): Promise<HttpResponse> {
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
      throw new UnavailableError(
        `cannot reach the dstack server at ${this.url}: ${(e as Error).cause ?? (e as Error).message}`,
        { cause: e },
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
      throw errorFromResponse(response.status, parsed, this.tokenSource && { ...this.tokenSource, url: this.url });
    }
    return response;
  }

  /** A JSON request: its body can be sent again, so a dropped connection is retried. */
  private json<T>(
    method: string,
    path: string,
    json?: unknown,
    signal?: AbortSignal,
    retryable = isTransient,
  ): Promise<T> {
    return this.retry(
      async () => {
        const response = await this.request(method, path, { json, ...(signal ? { signal } : {}) });
        return readJson<T>(response);
      },
      signal,
      `${method} ${path.split('?')[0]}`,
      retryable,
    );
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

  /** Runs of `project` (core/projects.ts), or of every project. */
  listRuns(options: { last?: number | undefined; project?: string | undefined } = {}): Promise<RunView[]> {
    return this.json('GET', `/api/runs${searchOf(options)}`);
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

  /** Tagged runs of `project`, or of every project. */
  tags(project?: string): Promise<RunView[]> {
    return this.json('GET', `/api/tags${searchOf({ project })}`);
  }

  addTag(tag: string, run: string): Promise<TaggedRun> {
    return this.json('POST', '/api/tags', { tag, run });
  }

  /** Delete the tag in `project`, or the one tag of that name in any project. */
  async deleteTag(tag: string, project?: string): Promise<void> {
    await this.json('DELETE', `/api/tags/${encodeURIComponent(tag)}${searchOf({ project })}`);
  }

  prune(olderThanMs: number, dryRun = false): Promise<PruneResult> {
    return this.json('POST', '/api/prune', { olderThanMs, ...(dryRun ? { dryRun } : {}) });
  }

  resume(target: string): Promise<JobRecord[]> {
    return this.json('POST', '/api/resume', { target });
  }

  /** Every line of the target's log (use `logPages` to handle a long log page by page). */
  async logs(target: string, since?: number): Promise<OutputLine[]> {
    const lines: OutputLine[] = [];
    for await (const page of this.logPages(target, since)) lines.push(...page);
    return lines;
  }

  /** The target's log in time order, one page at a time: memory holds one page, however long the log. */
  async *logPages(target: string, since?: number): AsyncGenerator<OutputLine[]> {
    const fetchPage = async (cursor: string) => {
      const q = new URLSearchParams({ target, cursor });
      if (since !== undefined) q.set('since', String(since));
      return readLogPage(await this.request('GET', `/api/logs?${q}`, { accept: LOG_ACCEPT }));
    };
    let next = fetchPage('');
    for (;;) {
      const page = await next;
      // The next page is on its way while the caller handles this one (two pages in memory at most).
      if (page.more) {
        next = fetchPage(page.cursor);
        next.catch(() => {}); // awaited above on the next turn; a caller that stops early leaves it unread
      }
      if (page.lines.length > 0) yield page.lines;
      if (!page.more) return;
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
      // Each `jobs` event is the whole list of jobs: not asked for when nothing shows it.
      if (!handlers.onJobs) q.set('jobs', 'false');
      return this.request('GET', `/api/logs/stream?${q}`, {
        accept: LOG_ACCEPT,
        ...(handlers.signal ? { signal: handlers.signal } : {}),
      });
    };
    const local = this.localServer;
    // The local server's port dies with it: retrying the address for minutes would not bring it back.
    const serverGone = () =>
      local && !isAlive(local.pid)
        ? `the local dstack server (pid ${local.pid}) has stopped; 'dstack status' starts it again and shows how the jobs ended`
        : undefined;
    await followStream(this.url, open, { serverGone, ...handlers });
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
  planUploads(blobs: UploadPlanRequest['blobs']): Promise<UploadPlan> {
    return this.json('POST', '/api/blobs/uploads', { blobs });
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

  // Runners

  registerRunner(request: RegisterRunnerRequest & { jobIds: string[] }): Promise<{ ok: boolean; heartbeatMs: number }> {
    return this.json('POST', '/api/runner/register', request);
  }

  /** How many of its jobs the server is stopping. */
  drainRunner(request: DrainRunnerRequest): Promise<{ stopping: number }> {
    return this.json('POST', '/api/runner/drain', request);
  }

  leaveRunner(request: LeaveRunnerRequest): Promise<{ ok: boolean }> {
    return this.json('POST', '/api/runner/leave', request);
  }

  async claim(request: ClaimRequest, signal?: AbortSignal): Promise<Assignment | null> {
    return (await this.json<{ assignment: Assignment | null }>('POST', '/api/runner/claim', request, signal))
      .assignment;
  }

  async heartbeat(request: HeartbeatRequest, signal?: AbortSignal): Promise<RunnerCommand[]> {
    return (await this.json<{ commands: RunnerCommand[] }>('POST', '/api/runner/heartbeat', request, signal)).commands;
  }

  /** A job's status report: retried through a full server storage too (`isReportRetryable`). */
  transition(jobId: string, request: RunnerTransitionRequest): Promise<RunnerTransitionAnswer> {
    return this.json('POST', `/api/runner/jobs/${jobId}/transition`, request, undefined, isReportRetryable);
  }

  /**
   * Send log entries as a log batch (core/log-batch.ts): the output travels as bytes, not as
   * JSON strings. `bytes[i]`, when the caller has it, is the exact output of entry i. Retried:
   * the server keeps each sequence number once.
   */
  async appendLogs(jobId: string, entries: LogEntry[], bytes?: readonly Buffer[]): Promise<number> {
    return (await this.sendLogs(jobId, entries, bytes)).lastSeq;
  }

  /**
   * A job's last log entries and then its transition, in one request: the server stores the
   * entries first. Retried as both are: entries by sequence number, a transition already made
   * answers with the status it made. Undefined from a server that does not know `then`: it
   * stored the entries only.
   */
  async appendLogsThen(
    jobId: string,
    entries: LogEntry[],
    bytes: readonly Buffer[] | undefined,
    then: RunnerTransitionRequest,
  ): Promise<RunnerTransitionAnswer | undefined> {
    return (await this.sendLogs(jobId, entries, bytes, then)).transition;
  }

  private sendLogs(
    jobId: string,
    entries: LogEntry[],
    bytes?: readonly Buffer[],
    then?: RunnerTransitionRequest,
  ): Promise<{ lastSeq: number; transition?: RunnerTransitionAnswer }> {
    const body = Buffer.concat(encodeLogBatch(entries, bytes));
    const query = then ? `?then=${encodeURIComponent(JSON.stringify(then))}` : '';
    return this.retry(
      async () => {
        const response = await this.request('POST', `/api/runner/jobs/${jobId}/logs${query}`, { body });
        return readJson<{ lastSeq: number; transition?: RunnerTransitionAnswer }>(response);
      },
      undefined,
      `POST /api/runner/jobs/${jobId}/logs`,
      then ? isReportRetryable : isTransient,
    );
  }

  /** Runners: the assignment of a job already given to this runner (`dstack runner exec`, one job per process). */
  async runnerAssignment(jobId: string): Promise<Assignment> {
    return (await this.json<{ assignment: Assignment }>('GET', `/api/runner/jobs/${jobId}/assignment`)).assignment;
  }

  /** Stop a job of this runner's own as `dstack stop` does (Slurm is ending its batch job); the job as it is then. */
  async stopOwnJob(jobId: string, request: StopOwnJobRequest): Promise<JobRecord> {
    return (await this.json<{ job: JobRecord }>('POST', `/api/runner/jobs/${jobId}/stop`, request)).job;
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
  async codeSource(jobId: string, signal?: AbortSignal): Promise<CodeSource | null> {
    const path = `/api/runner/jobs/${jobId}/code-source`;
    return (await this.json<{ source: CodeSource | null }>('GET', path, undefined, signal)).source;
  }
}

/** `?a=1&b=2` of the options given (undefined ones left out), or '' when none is. */
function searchOf(options: Record<string, string | number | undefined>): string {
  const given = Object.entries(options).filter((e): e is [string, string | number] => e[1] !== undefined);
  return given.length === 0
    ? ''
    : `?${new URLSearchParams(given.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}
