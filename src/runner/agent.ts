/**
 * The runner agent: registers with the server, pulls jobs that fit its free capacity,
 * runs several at once, and listens for stop and abort through a long-polled heartbeat.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunnerClient } from '../client/runner-client.js';
import type { Assignment } from '../core/api.js';
import { within } from '../core/concurrency.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../core/errors.js';
import { plural, type Capacity } from '../core/resources.js';
import type { Logger } from '../logger.js';
import { AbilityWatch, answeringDocker, type AbilityProbe, type RunnerAbilities } from './abilities.js';
import type { Executor } from './executors/executor.js';
import { DEFAULT_VENV_CACHE, readProviderSettings, type VenvCacheLimits } from '../settings.js';
import { cleanDockerLeftovers } from './executors/docker/leftovers.js';
import { JobRun } from './job-run.js';
import { resendSpool } from './log-shipper.js';
import { REFUSED_ABORT_MS, refusedTokenMessage } from './refused-token.js';
import { predecessor, writeSessionFile } from './session-file.js';
import { Trash } from './trash.js';
import { LeftoverJob } from './leftover-job.js';
import { sortLeftovers } from './leftovers.js';
import { VenvEviction } from './venv-eviction.js';
import { spoolPath } from './workspace.js';

export interface RunnerOptions {
  client: RunnerClient;
  name: string;
  workRoot: string;
  capacity: Capacity;
  executor: Executor;
  logger: Logger;
  baseEnv: Record<string, string>;
  stopGraceMs: number;
  /** How long one claim or heartbeat request may wait on the server, ms. */
  pollMs?: number;
  /**
   * Called once the server has refused this runner's token (it was deleted with `dstack
   * runners delete`) and the runner has stopped, its jobs aborted: a runner process exits.
   */
  onRefused?: () => void;
  /**
   * Spool jobs' log lines to disk as they are read (the default). A runner inside the server
   * does not: its sends are calls into the log store of its own process (docs/decisions.md).
   */
  spoolLogs?: boolean;
  /**
   * Refuse a work dir another live runner process uses (the default): starting would end
   * that runner's jobs as a crashed runner's leftovers. The runner inside the server leaves
   * this to the server's own start, which may replace an idle server of an older build.
   */
  exclusiveWorkRoot?: boolean;
  /**
   * What kinds of job it can run (abilityProbe: a Docker engine, its Pythons), told with its
   * capacity at the register and again when they change. Absent: it tells nothing, as an older
   * runner, and is offered any job.
   */
  abilities?: AbilityProbe;
  /**
   * How long the register waits for the Pythons, ms (abilities.ts): briefly inside the server,
   * whose first `dstack run` waits on it; a runner among others waits for them, since until it
   * tells them it is offered python jobs it may not be able to run.
   */
  pythonsWaitMs?: number;
  /** How much of its cached virtualenvs it keeps (default DEFAULT_VENV_CACHE: a week unused, 20GB). */
  venvCache?: VenvCacheLimits;
  /**
   * False: it runs only jobs in containers (--no-host-jobs), and tells the server so with its
   * capacity (Capacity.host); a host job that reaches it anyway is failed (JobRunContext.hostJobs).
   */
  hostJobs?: boolean;
}

const RETRY_MS = 1000;

/** How often a runner whose name another live process holds asks to register again, ms. */
const REGISTER_RETRY_MS = 2000;

/** How long a runner shutting down waits for the server to take its drain. */
const DRAIN_ASK_MS = 10_000;

/** The reason of the jobs a runner was running when it was shut down (`drain`). */
export const RUNNER_SHUTDOWN_REASON = 'stopped: its runner shut down';

export class RunnerAgent {
  private readonly running = new Map<string, { run: JobRun; assignment: Assignment }>();
  /** Jobs a previous process left running whose take-up waits for the server: still held (heartbeats list them). */
  private readonly recovering = new Set<string>();
  private stopped = false;
  /** False once draining: no new job is claimed. */
  private claiming = true;
  private claims: Promise<void> | undefined;
  /** Waiting for the last running job to end (`idle`). */
  private idleWaiters: (() => void)[] = [];
  private claimAbort: AbortController | undefined;
  private heartbeatAbort: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private readonly trash: Trash;
  /** How long a claim or heartbeat may wait on the server: the server says, well inside its runner timeout. */
  private pollMs = 10_000;
  /** This process's id, sent with every register, claim, heartbeat, drain and leave: it tells it from another with the token. */
  private readonly session = randomUUID();
  private readonly abilities: AbilityWatch | undefined;
  private readonly venvs: VenvEviction;

  constructor(private readonly options: RunnerOptions) {
    if (options.abilities)
      this.abilities = new AbilityWatch(
        options.abilities,
        (text, warn) => (warn ? options.logger.warn(text) : options.logger.info(text)),
        options.pythonsWaitMs,
        options.hostJobs !== false,
      );
    this.trash = new Trash(join(options.workRoot, 'trash'), {
      busy: () => this.running.size > 0,
      warn: (message) => options.logger.warn(message),
    });
    this.venvs = new VenvEviction(options.workRoot, options.venvCache ?? DEFAULT_VENV_CACHE, {
      discard: (path) => this.trash.discard(path),
      log: (text) => options.logger.info(text),
      warn: (text) => options.logger.warn(text),
    });
  }

  async start(): Promise<void> {
    const { client, name, capacity, logger } = this.options;
    const replaces = await predecessor(this.options.workRoot, this.options.exclusiveWorkRoot !== false);
    await this.trash.empty(); // what an earlier runner process had no time to remove
    // One ping of the Docker engine serves the start: its leftover containers, and what it registers with.
    const engine = await answeringDocker(readProviderSettings().dockerHost);
    // Containers before folders: they may still be writing there, and they give their files back.
    const containers = 'docker' in engine ? await cleanDockerLeftovers(engine.docker, this.options.workRoot) : [];
    if (containers.length > 0) logger.warn(`removed ${plural(containers.length, 'container')} a previous runner left`);
    const resend = async (jobId: string, spool: string) => {
      await resendSpool(
        spool,
        (entries) => client.appendLogs(jobId, entries),
        (e) => logger.error(`job ${jobId}: ${e.message}`),
      );
    };
    const { ended, kept } = await sortLeftovers(this.options.workRoot, {
      resend,
      trash: this.trash,
      graceMs: this.options.stopGraceMs,
    });
    if (ended.length > 0)
      logger.warn(`ended ${plural(ended.length, 'job')} a previous runner left behind`, { jobs: ended });
    if (kept.length > 0)
      logger.warn(`stopping ${plural(kept.length, 'job')} a previous runner left running; saving their artifacts`, {
        jobs: kept,
      });
    // Once the jobs left behind have ended: none of them uses a virtualenv any more. Not awaited:
    // `du` over gigabytes must not hold up the register (a job that wants one meanwhile holds it).
    void this.venvs.atStart();
    // Registered as holding them: the server does not fail them as lost with the previous process.
    const { heartbeatMs } = await this.register(replaces, kept, 'problem' in engine ? engine.problem : undefined);
    await writeSessionFile(this.options.workRoot, this.session);
    this.pollMs = this.options.pollMs ?? heartbeatMs;
    for (const id of kept) await this.takeUp(id, resend);
    logger.info(`runner ${name} registered`, {
      cpu: capacity.cpu,
      memory: capacity.memory,
      gpus: capacity.gpus.length,
    });
    this.claims = this.claimLoop();
    this.loops = [this.claims, this.heartbeatLoop()];
  }

  /**
   * Registers; while another live process has this runner's token (the server answers 409),
   * waits, saying so once: a runner restarting after a crash gets in once the old one is silent,
   * or at once when it `replaces` the session its work dir recorded for the dead process.
   * `dockerProblem`: why no Docker engine answered the start's ping (undefined: one did), told with its abilities.
   */
  private async register(
    replaces: string | undefined,
    holds: string[],
    dockerProblem: string | undefined,
  ): Promise<{ heartbeatMs: number }> {
    const { client, name, logger } = this.options;
    const abilities = await this.abilities?.now(dockerProblem);
    let said = false;
    for (;;) {
      try {
        const answer = await client.registerRunner({
          name,
          session: this.session,
          ...(replaces === undefined ? {} : { replaces }),
          host: hostname(),
          total: this.total(abilities),
          jobIds: holds,
        });
        if (abilities) this.abilities!.heard(abilities);
        return answer;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        if (!said) logger.warn(`${e.message}; retrying until it stops heartbeating`);
        said = true;
        await sleep(REGISTER_RETRY_MS);
      }
    }
  }

  /** What it tells the server it has: its capacity, what it can run, and whether it runs host jobs. */
  private total(abilities: RunnerAbilities | undefined): Capacity {
    return { ...this.options.capacity, ...abilities, ...(this.options.hostJobs === false ? { host: false } : {}) };
  }

  /**
   * Shutting down without losing work: the server gives this runner no more jobs and stops
   * those it runs as `dstack stop` does (SIGTERM, the grace period, artifacts saved), with
   * `reason`; resolves once they have ended, with how many there were, and the server lists
   * this runner OFFLINE rather than lost a timeout later. The claim under way is answered (at
   * once, with none), not aborted: an answer lost could strand a job the server had just assigned.
   */
  async drain(reason: string): Promise<number> {
    // A server that does not answer soon cannot stop the jobs: the caller then exits without them.
    const answer = await within(
      this.options.client.drainRunner({ name: this.options.name, session: this.session, reason }),
      DRAIN_ASK_MS,
    );
    if (!answer) throw new Error(`no answer from the server in ${DRAIN_ASK_MS / 1000} s`);
    const { stopping } = answer;
    if (stopping > 0)
      this.options.logger.warn(`stopping ${plural(stopping, 'job')} (${reason}); artifacts are saved first`);
    this.claiming = false;
    await this.claims;
    await this.idle();
    const left = await within(
      this.options.client.leaveRunner({ name: this.options.name, session: this.session }),
      DRAIN_ASK_MS,
    ).catch(() => undefined);
    // Only how it is listed: without it the server marks this runner lost after its timeout.
    if (!left) this.options.logger.warn('could not tell the server this runner shut down');
    return stopping;
  }

  /** Resolves once no job runs here. */
  private idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop taking work. Jobs already running are left to finish in the background. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.claimAbort?.abort();
    this.heartbeatAbort?.abort();
    await Promise.allSettled(this.loops);
    await this.venvs.settled();
  }

  private async claimLoop(): Promise<void> {
    const { client, name, logger } = this.options;
    while (!this.stopped && this.claiming) {
      this.claimAbort = new AbortController();
      try {
        // Aborted only when the runner stops: an answer lost in flight would strand a job the server assigned.
        const jobIds = [...this.running.keys(), ...this.recovering];
        const assignment = await client.claim(
          { name, session: this.session, jobIds, waitMs: this.pollMs },
          this.claimAbort.signal,
        );
        if (assignment && !this.running.has(assignment.job.id)) this.launch(assignment);
      } catch (e) {
        if ((e as Error).name === 'AbortError' || this.stopped || !this.claiming) continue;
        if (e instanceof UnauthorizedError || e instanceof ConflictError) return this.refused(e);
        logger.warn('claiming work failed; retrying', { error: String(e) });
        await sleep(RETRY_MS);
      }
    }
  }

  /**
   * A job the previous process left with its workspace (leftovers.ts): saved and ended as it
   * runs alongside new work (leftover-job.ts). One the server no longer has running here (failed
   * as lost while the runner was away) is removed.
   */
  private async takeUp(id: string, resend: (jobId: string, spool: string) => Promise<void>): Promise<void> {
    const { client, logger, workRoot } = this.options;
    let assignment: Assignment;
    try {
      await resend(id, spoolPath(workRoot, id)); // what the first try could not send: the save's lines follow it
      assignment = await client.runnerAssignment(id).catch(async (e: unknown) => {
        if (!(e instanceof ConflictError)) throw e;
        // Failed as lost while this runner was away (a reboot outlasting the runner timeout): its work is here.
        const back = await client.takeBack(id);
        logger.warn(`job ${id}, failed as lost while this runner was away, is taken back: saving its artifacts`);
        return back;
      });
    } catch (e) {
      if (!isAnswer(e)) {
        // The server out of reach past the client's retries: its checkpoint is kept, and asked for again.
        logger.warn(`job ${id} a previous runner left behind waits to be saved: ${(e as Error).message}`);
        this.recovering.add(id);
        const again = () =>
          this.takeUp(id, resend).catch((err: unknown) => logger.warn(`job ${id}: ${(err as Error).message}`));
        setTimeout(() => void (this.stopped ? undefined : again()), this.pollMs).unref();
        return;
      }
      this.recovering.delete(id);
      logger.warn(`job ${id} a previous runner left behind is not saved: ${(e as Error).message}`);
      await this.trash.discard(join(workRoot, 'jobs', id));
      return;
    }
    this.recovering.delete(id);
    this.launch(assignment, LeftoverJob);
  }

  private launch(assignment: Assignment, Kind: typeof JobRun = JobRun): void {
    const { logger } = this.options;
    const run = new Kind(
      {
        client: this.options.client,
        executor: this.options.executor,
        workRoot: this.options.workRoot,
        logger,
        baseEnv: this.options.baseEnv,
        stopGraceMs: this.options.stopGraceMs,
        trash: this.trash,
        spoolLogs: this.options.spoolLogs ?? true,
        venvBuilt: () => void this.venvs.afterBuild(),
        ...(this.options.hostJobs === false ? { hostJobs: false } : {}),
      },
      assignment,
    );
    this.running.set(run.id, { run, assignment });
    this.heartbeatAbort?.abort(); // re-poll with the new job included
    const what = Kind === JobRun ? 'started' : `taken up (${assignment.job.status})`;
    logger.info(`job ${run.id} ${what}`, { run: assignment.run.name, workflow: assignment.job.workflow });
    void run.run().finally(() => {
      this.running.delete(run.id);
      logger.info(`job ${run.id} finished`);
      if (this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /**
   * The server no longer knows this runner's token, or another process registered with it
   * (this one was silent past the runner timeout): no retry can reach it again. Its jobs,
   * which the server has already failed, are aborted here too, rather than run on unseen.
   */
  private async refused(e: UnauthorizedError | ConflictError): Promise<void> {
    if (this.stopped) return;
    const { name } = this.options;
    this.options.logger.error(
      e instanceof ConflictError
        ? `${e.message}: aborting its jobs and stopping`
        : `${refusedTokenMessage(name)}. Aborting its jobs and stopping; to start it again, an admin prints a new ` +
            `token with: dstack runners token ${name} (or runners add ${name}, if it was deleted)`,
    );
    void this.stop();
    for (const { run } of this.running.values()) run.request('abort');
    await Promise.race([this.idle(), sleep(REFUSED_ABORT_MS)]);
    this.options.onRefused?.();
  }

  /** The jobs a heartbeat lists: those whose end the server has not taken yet (dropped-jobs.ts). */
  private held(): string[] {
    return [...this.running].filter(([, { run }]) => !run.ended).map(([id]) => id);
  }

  private async heartbeatLoop(): Promise<void> {
    const { client, name, logger } = this.options;
    while (!this.stopped) {
      this.heartbeatAbort = new AbortController();
      // A Docker engine that came or went: this heartbeat is cut short, and the next tells the server.
      this.abilities?.check(() => this.heartbeatAbort?.abort());
      const changed: RunnerAbilities | undefined = this.abilities?.unheard();
      try {
        const commands = await client.heartbeat(
          {
            name,
            session: this.session,
            jobIds: [...this.held(), ...this.recovering],
            waitMs: this.pollMs,
            ...(changed ? { total: this.total(changed) } : {}),
          },
          this.heartbeatAbort.signal,
        );
        if (changed) this.abilities!.heard(changed);
        for (const command of commands) {
          const held = this.running.get(command.jobId);
          // Ended here as the heartbeat waited (the server's abort says it had ended it): nothing to abort.
          if (!held || held.run.ending) continue;
          // An abort with a reason is the server's, not a user's: this runner was out of touch.
          if (command.reason) logger.warn(`job ${command.jobId} aborted: ${command.reason}`);
          held.run.request(command.action, command.graceMs, command.reason);
        }
        // The server answers at once while a stop is pending; don't spin on it.
        if (commands.length > 0) await sleep(200);
      } catch (e) {
        if ((e as Error).name === 'AbortError' || this.stopped) continue;
        if (e instanceof UnauthorizedError || e instanceof ConflictError) return this.refused(e);
        logger.warn('heartbeat failed; retrying', { error: String(e) });
        await sleep(RETRY_MS);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The server's answer about a job (none such, not this runner's, ended), not a failure to reach it. */
function isAnswer(e: unknown): boolean {
  return e instanceof NotFoundError || e instanceof ForbiddenError || e instanceof ConflictError;
}
