/**
 * The runner agent's client: what a runner asks of its server (register, claim, heartbeat,
 * drain, leave) and reports about the jobs it holds (status, logs, artifacts). Runner tokens
 * may call only these and the blobs of ApiClient (server/app.ts `whoMayCall`).
 */
import type {
  ArtifactManifest,
  Assignment,
  ClaimRequest,
  DrainRunnerRequest,
  HeartbeatRequest,
  JobRecord,
  LeaveRunnerRequest,
  LogEntry,
  RegisterRunnerRequest,
  RunnerCommand,
  RunnerTransitionAnswer,
  RunnerTransitionRequest,
  StopOwnJobRequest,
} from '../core/api.js';
import { encodeLogBatch } from '../core/log-batch.js';
import type { CodeSource } from '../core/repos.js';
import { ApiClient } from './api-client.js';
import { readJson } from './http.js';
import { isReportRetryable, isTransient } from './retry.js';

export class RunnerClient extends ApiClient {
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
    const query = then ? `&then=${encodeURIComponent(JSON.stringify(then))}` : '';
    return this.retry(
      async () => {
        // This attempt's time by this machine's clock: the server sets the entries' times by it
        // when the clocks differ (server/api/runner-clock.ts).
        const path = `/api/runner/jobs/${jobId}/logs?sent=${Date.now()}${query}`;
        const response = await this.request('POST', path, { body });
        return readJson<{ lastSeq: number; transition?: RunnerTransitionAnswer }>(response);
      },
      undefined,
      `POST /api/runner/jobs/${jobId}/logs`,
      then ? isReportRetryable : isTransient,
    );
  }

  /** The assignment of a job already given to this runner (`dstack runner exec`, one job per process). */
  async runnerAssignment(jobId: string): Promise<Assignment> {
    return (await this.json<{ assignment: Assignment }>('GET', `/api/runner/jobs/${jobId}/assignment`)).assignment;
  }

  /**
   * Take back a job of this runner's that the server failed as lost while the runner was away,
   * its workspace still here: the server stops it (STOPPING) for its artifacts to be saved.
   */
  async takeBack(jobId: string): Promise<Assignment> {
    return (await this.json<{ assignment: Assignment }>('POST', `/api/runner/jobs/${jobId}/take-back`)).assignment;
  }

  /** Stop a job of this runner's own as `dstack stop` does (Slurm is ending its batch job); the job as it is then. */
  async stopOwnJob(jobId: string, request: StopOwnJobRequest): Promise<JobRecord> {
    return (await this.json<{ job: JobRecord }>('POST', `/api/runner/jobs/${jobId}/stop`, request)).job;
  }

  async putArtifacts(jobId: string, manifest: ArtifactManifest): Promise<void> {
    await this.json('PUT', `/api/runner/jobs/${jobId}/artifacts`, manifest);
  }

  /** How to clone the code of a job this runner holds (credentials in the clear), or null. */
  async codeSource(jobId: string, signal?: AbortSignal): Promise<CodeSource | null> {
    const path = `/api/runner/jobs/${jobId}/code-source`;
    return (await this.json<{ source: CodeSource | null }>('GET', path, undefined, signal)).source;
  }
}
