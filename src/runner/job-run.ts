/**
 * One job on a runner, from claim to its final status: workspace, commands, logs,
 * artifacts. Stop and abort can arrive at any point; the server's answer to each
 * transition says whether one did.
 */
import type { Client } from '../client/client.js';
import type { Assignment } from '../core/api.js';
import type { JobStatus } from '../core/job-status.js';
import { substitute } from '../core/variables.js';
import type { Logger } from '../logger.js';
import { RUNNABLE_PROVIDERS } from '../providers/index.js';
import { saveArtifacts } from './artifacts.js';
import type { Execution, Executor } from './executors/executor.js';
import { LogShipper } from './log-shipper.js';
import { prepareWorkspace, recordPid, removeWorkspace } from './workspace.js';

export interface JobRunContext {
  client: Client;
  executor: Executor;
  workRoot: string;
  logger: Logger;
  /** Environment the runner passes on to jobs (its own, less dstack's secrets). */
  baseEnv: Record<string, string>;
  stopGraceMs: number;
}

export class JobRun {
  private status: JobStatus;
  private execution: Execution | undefined;
  private requested: 'stop' | 'abort' | undefined;
  private readonly logs: LogShipper;
  readonly id: string;

  constructor(
    private readonly ctx: JobRunContext,
    private readonly assignment: Assignment,
  ) {
    this.id = assignment.job.id;
    this.status = assignment.job.status;
    const log = ctx.logger.child(`job:${this.id}`);
    this.logs = new LogShipper(
      (entries) => ctx.client.appendLogs(this.id, entries),
      assignment.logSeq,
      200,
      (e) => log.warn('sending logs failed; will retry', { error: String(e) }),
    );
  }

  /** A stop or abort from the user (through the server). */
  request(action: 'stop' | 'abort', graceMs = this.ctx.stopGraceMs): void {
    if (this.requested === 'abort' || this.requested === action) return;
    this.requested = action;
    // The server moved the job to STOPPING/ABORTING before telling us.
    this.status = action === 'abort' ? 'ABORTING' : 'STOPPING';
    if (!this.execution) return;
    if (action === 'abort') this.execution.kill();
    else {
      this.execution.terminate();
      const execution = this.execution;
      setTimeout(() => execution.kill(), graceMs).unref();
    }
  }

  /** Move to `to`; false when the server says the job is elsewhere now (a stop arrived). */
  private async move(to: JobStatus, extra: { reason?: string; exitCode?: number } = {}): Promise<boolean> {
    const result = await this.ctx.client.transition(this.id, { from: this.status, to, ...extra });
    if (result.ok) {
      this.status = to;
      return true;
    }
    this.status = result.actual;
    if (result.actual === 'STOPPING') this.request('stop');
    if (result.actual === 'ABORTING') this.request('abort');
    return false;
  }

  async run(): Promise<void> {
    const note = (text: string) => this.logs.note(text);
    let workspace: string | undefined;
    try {
      const spec = this.assignment.job.spec;
      if (spec.image !== undefined || !RUNNABLE_PROVIDERS.includes(spec.provider)) {
        const what = spec.image !== undefined ? `image '${spec.image}' (docker)` : `provider '${spec.provider}'`;
        await this.finishFailed(`running ${what} workflows is not supported yet; use 'commands' without 'image'`);
        return;
      }
      workspace = await prepareWorkspace(this.ctx.client, this.ctx.workRoot, this.assignment, note);
      if (this.status === 'DOWNLOADING' && !(await this.move('RUNNING'))) {
        return await this.finishStopped(workspace);
      }
      const runtime = new Map([
        ['run_name', this.assignment.run.name],
        ['job_id', this.id],
      ]);
      this.execution = await this.ctx.executor.start({
        jobId: this.id,
        workspace,
        commands: spec.commands.map((c) => substitute(c, runtime)),
        env: this.environment(),
        onOutput: (stream, chunk) => this.logs.write(stream, chunk),
      });
      if (this.execution.pid !== undefined) await recordPid(this.ctx.workRoot, this.id, this.execution.pid);
      if (this.requested) this.request(this.requested);
      const exit = await this.execution.exit;
      if (this.requested) return await this.finishStopped(workspace);
      if (exit.code !== 0) {
        const reason = exit.code === null ? `killed by signal ${exit.signal}` : `exit code ${exit.code}`;
        await this.logs.close();
        if (!(await this.move('FAILED', { reason, ...(exit.code === null ? {} : { exitCode: exit.code }) }))) {
          await this.finishStopped(workspace);
        }
        return;
      }
      await this.logs.close();
      if (!(await this.move('UPLOADING'))) return await this.finishStopped(workspace);
      await saveArtifacts(this.ctx.client, this.id, workspace, spec.artifacts, note);
      await this.logs.close();
      await this.move('DONE', { reason: 'exit code 0', exitCode: 0 });
    } catch (e) {
      this.ctx.logger.error(`job ${this.id} failed in the runner`, { error: String(e) });
      await this.finishFailed(`runner error: ${(e as Error).message}`).catch(() => {});
    } finally {
      await removeWorkspace(this.ctx.workRoot, this.id).catch(() => {});
    }
  }

  /** After a stop: save artifacts, then STOPPED; after an abort: ABORTED at once. */
  private async finishStopped(workspace: string): Promise<void> {
    await this.logs.close();
    if (this.requested === 'abort' || this.status === 'ABORTING') {
      await this.move('ABORTED', { reason: 'aborted by user' });
      return;
    }
    if (this.status === 'STOPPING' && (await this.move('UPLOADING'))) {
      this.logs.note('stopped; saving artifacts');
      await saveArtifacts(this.ctx.client, this.id, workspace, this.assignment.job.spec.artifacts, (t) =>
        this.logs.note(t),
      );
      await this.logs.close();
      await this.move('STOPPED', { reason: 'stopped by user' });
    }
  }

  private async finishFailed(reason: string): Promise<void> {
    this.logs.note(reason);
    await this.logs.close();
    if (!(await this.move('FAILED', { reason }))) {
      if (this.status === 'STOPPING') await this.move('STOPPED', { reason: 'stopped by user' });
      else if (this.status === 'ABORTING') await this.move('ABORTED', { reason: 'aborted by user' });
    }
  }

  private environment(): Record<string, string> {
    const spec = this.assignment.job.spec;
    const env: Record<string, string> = { ...this.ctx.baseEnv };
    for (const [name, value] of Object.entries(spec.variables)) env[name.toUpperCase()] = value;
    Object.assign(env, spec.env, {
      DSTACK_RUN_NAME: this.assignment.run.name,
      DSTACK_JOB_ID: this.id,
      DSTACK_WORKFLOW: spec.workflow,
      run_name: this.assignment.run.name,
      job_id: this.id,
    });
    const gpus = this.assignment.job.gpus ?? [];
    env.CUDA_VISIBLE_DEVICES = gpus.map((g) => g.index).join(',');
    return env;
  }
}
