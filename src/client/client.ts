/**
 * The CLI's client of the dstack API: runs, logs, tags, the team (users, runners) and
 * repos, as a user's token may ask for them. The CLI reaches the server only through this;
 * runners have their own (runner-client.ts), and both share ApiClient's transport and blobs.
 */
import type {
  ArtifactManifest,
  JobRecord,
  JobView,
  PreviewRequest,
  PruneResult,
  RunPreview,
  RunnerView,
  RunView,
  SubmitRunRequest,
  SubmittedRun,
  TagDeleted,
  TaggedRun,
} from '../core/api.js';
import { NotFoundError } from '../core/errors.js';
import type { JobStatus } from '../core/job-status.js';
import type { OutputLine } from '../core/log-frames.js';
import type { RegisterRepoRequest, RepoView } from '../core/repos.js';
import { ApiClient } from './api-client.js';
import type { ClientOptions } from './client-options.js';
import { followStream, type FollowHandlers } from './log-follow.js';
import { isAlive } from './process-alive.js';
import { LOG_ACCEPT, readLogPage } from './log-reading.js';

export class Client extends ApiClient {
  private readonly localServer: { pid: number; dataDir?: string } | undefined;

  constructor(options: ClientOptions) {
    super(options);
    this.localServer = options.localServer;
  }

  // Runs, jobs, tags, logs

  submitRun(request: SubmitRunRequest): Promise<SubmittedRun> {
    return this.json('POST', '/api/runs', request);
  }

  previewRun(request: PreviewRequest): Promise<RunPreview> {
    return this.json('POST', '/api/runs/preview', request);
  }

  /** Runs of `project` (core/projects.ts), or of every project; with `mine`, only the caller's (an admin sees everyone's). */
  listRuns(
    options: {
      last?: number | undefined;
      project?: string | undefined;
      workflow?: string | undefined;
      status?: JobStatus | undefined;
      mine?: boolean;
    } = {},
  ): Promise<RunView[]> {
    const { mine, ...rest } = options;
    return this.json('GET', `/api/runs${searchOf({ ...rest, mine: mine ? '1' : undefined })}`);
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

  /**
   * Tagged runs of `project`, or of every project; with `mine`, only the caller's (an admin sees
   * everyone's); with `promised`, the unfinished runs a tag is promised to also (their `tagOnDone`).
   */
  tags(
    project?: string,
    { mine = false, promised = false }: { mine?: boolean; promised?: boolean } = {},
  ): Promise<RunView[]> {
    const search = searchOf({ project, mine: mine ? '1' : undefined, promised: promised ? '1' : undefined });
    return this.json('GET', `/api/tags${search}`);
  }

  addTag(tag: string, run: string): Promise<TaggedRun> {
    return this.json('POST', '/api/tags', { tag, run });
  }

  /** Delete the tag in `project`, or the one tag of that name in any project. */
  /** `user`: whose tag, for an admin (another user's, or a deleted user's). */
  deleteTag(tag: string, project?: string, user?: string): Promise<TagDeleted> {
    return this.json('DELETE', `/api/tags/${encodeURIComponent(tag)}${searchOf({ project, user })}`);
  }

  /** Prune the runs of `project`, or of every project when it is undefined. */
  prune(
    olderThanMs: number,
    {
      project,
      dryRun = false,
      includeStopped = false,
    }: { project?: string; dryRun?: boolean; includeStopped?: boolean },
  ): Promise<PruneResult> {
    return this.json('POST', '/api/prune', {
      olderThanMs,
      ...(project === undefined ? {} : { project }),
      ...(dryRun ? { dryRun } : {}),
      ...(includeStopped ? { includeStopped } : {}),
    });
  }

  /** `noTag`: drop the run's --tag, which another run may have taken while it was stopped. */
  resume(target: string, noTag = false): Promise<JobRecord[]> {
    return this.json('POST', '/api/resume', noTag ? { target, noTag } : { target });
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

  /** Each user once; `tokens`: how many valid tokens they have (a stale token file makes a second; absent from older servers). */
  users(): Promise<{ name: string; admin: boolean; createdAt: number; tokens?: number }[]> {
    return this.json('GET', '/api/users');
  }

  /** Add a user, an admin with `admin`; `admin` in the answer is absent from servers before --admin. */
  addUser(name: string, admin = false): Promise<{ name: string; admin?: boolean; token: string }> {
    return this.json('POST', '/api/users', admin ? { name, admin } : { name });
  }

  /** Delete a user; how many of their unfinished jobs were stopped with them (0 from servers before it said). */
  async deleteUser(name: string): Promise<number> {
    const answer = await this.json<{ stopped?: number }>('DELETE', `/api/users/${encodeURIComponent(name)}`);
    return answer.stopped ?? 0;
  }

  /** Make user `name` an admin or not (admins); `changed` is false when they already were what was asked. */
  async setAdmin(name: string, admin: boolean): Promise<{ name: string; admin: boolean; changed: boolean }> {
    const path = `/api/users/${encodeURIComponent(name)}/admin`;
    try {
      return await this.json('PUT', path, { admin });
    } catch (e) {
      // A server from before the route answers its JSON 404 for any unknown one.
      if (e instanceof NotFoundError && e.message === `no route PUT ${path}`) {
        const command = admin ? 'promote' : 'demote';
        throw new NotFoundError(`the server at ${this.url} is older than users ${command}: upgrade it`, { cause: e });
      }
      throw e;
    }
  }

  /**
   * A new token for user `name` in place of theirs, which stops working at once: an admin's for
   * anyone, or a user's own. Not retried: a second try would replace the first one's answer.
   */
  replaceUserToken(name: string): Promise<{ name: string; token: string }> {
    return this.json('POST', `/api/users/${encodeURIComponent(name)}/token`);
  }

  runners(): Promise<RunnerView[]> {
    return this.json('GET', '/api/runners');
  }

  addRunner(name: string): Promise<{ name: string; token: string }> {
    return this.json('POST', '/api/runners', { name });
  }

  /**
   * A new token for runner `name` (admins); `failed` is how many of its jobs ended with the old
   * one. A runner the server runs itself (its Slurm backend) gets one that the server keeps: `managed`, no token.
   */
  replaceRunnerToken(
    name: string,
  ): Promise<{ name: string; failed: number } & ({ token: string } | { managed: true; token?: undefined })> {
    return this.json('POST', `/api/runners/${encodeURIComponent(name)}/token`);
  }

  async deleteRunner(name: string): Promise<void> {
    await this.json('DELETE', `/api/runners/${encodeURIComponent(name)}`);
  }

  // Repos

  registerRepo(request: RegisterRepoRequest): Promise<RepoView> {
    return this.json('POST', '/api/repos', request);
  }

  listRepos(): Promise<RepoView[]> {
    return this.json('GET', '/api/repos');
  }
}

/** `?a=1&b=2` of the options given (undefined ones left out), or '' when none is. */
function searchOf(options: Record<string, string | number | undefined>): string {
  const given = Object.entries(options).filter((e): e is [string, string | number] => e[1] !== undefined);
  return given.length === 0
    ? ''
    : `?${new URLSearchParams(given.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}
