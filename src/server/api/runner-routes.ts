/** Routes for runners (mounted at /api/runner): register, claim work, heartbeat for commands, report status, logs and artifacts. */
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import type { RunnerCommand, RunnerTransitionAnswer, RunnerTransitionRequest } from '../../core/api.js';
import { ConflictError, ForbiddenError, InvalidError, NotFoundError } from '../../core/errors.js';
import { RUNNER_LOST, endedWithRunner, isFinished, runnerRestarted } from '../../core/job-status.js';
import type { JobRecord, RunnerRecord } from '../../core/records.js';
import type { Capacity } from '../../core/resources.js';
import { heldByAnother, isRegisteredSession } from '../../core/runner-session.js';
import { stopJobs } from '../control.js';
import { DroppedJobs } from '../dropped-jobs.js';
import { claim } from '../scheduler.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { logBatchBody } from './log-batch-body.js';
import { runnerClockOffset } from './runner-clock.js';
import { longPoll } from './token-watch.js';
import * as schemas from './schemas.js';
import { body, query } from './validate.js';

export function runnerRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;
  const dropped = new DroppedJobs(engine);
  /** A runner token acts only as the runner it was issued for. */
  const self = (c: Context<ApiEnv>, name: string) => {
    if (c.get('caller').name !== name) throw new ForbiddenError(`this token is for runner '${c.get('caller').name}'`);
  };
  const ownJob = async (c: Context<ApiEnv>, id: string): Promise<JobRecord> => {
    const job = await store.getJob(id);
    if (!job) throw new NotFoundError(`no job '${id}'`);
    if (job.runner !== c.get('caller').name) throw new ForbiddenError(`job ${id} is not assigned to this runner`);
    return job;
  };

  /**
   * A job that ended keeps its log and artifacts: a runner token (which a job on that runner's
   * machine may read) cannot rewrite a finished job that others reuse from the cache. A re-send
   * of lines stored already is answered as before (a last batch whose answer was lost), and a
   * job failed as `runner lost` or `runner restarted` takes the lines its restarted runner had spooled.
   */
  const ended = (job: JobRecord, what: 'log lines' | 'artifacts') =>
    new ConflictError(`job ${job.id} has ended (${job.status}): its ${what} can no longer change`);

  /** A process that is not the registered one (it was replaced): refused, touching nothing. */
  const replaced = (runner: RunnerRecord) =>
    new ConflictError(
      `runner ${runner.name} is now registered by another process (on ${runner.host}): this one no longer acts for it`,
    );
  const registered = async (name: string, session: string | undefined) => {
    const runner = await store.getRunner(name);
    if (runner && !isRegisteredSession(runner, session)) throw replaced(runner);
  };

  /** A heartbeat: a runner that was marked lost and comes back is active again (its lost jobs stay failed). */
  const alive = async (name: string, session: string | undefined) => {
    const status = await store.heartbeat(name, Date.now(), session ?? null);
    const runner = status === 'REPLACED' ? await store.getRunner(name) : undefined;
    if (runner) throw replaced(runner);
    if (status === 'LOST') {
      await store.setRunnerStatus(name, 'ACTIVE');
      engine.logger.info(`runner ${name} is back`);
      engine.wakeRunners();
    }
  };

  // One register at a time: two processes with one token cannot both find the runner free.
  let registering: Promise<unknown> = Promise.resolve();
  app.post('/register', async (c) => {
    const r = await body(c, schemas.registerRunner);
    self(c, r.name);
    const turn = registering.then(() => register(r));
    registering = turn.catch(() => {});
    return c.json(await turn);
  });
  const register = async (r: z.infer<typeof schemas.registerRunner>) => {
    const now = Date.now();
    const existing = await store.getRunner(r.name);
    // A second process with this runner's token while the first is alive: it must not take over
    // (fail the jobs, replace the resources); one restarting after a crash gets in once the old is silent.
    // A process naming the registered session as its dead predecessor's (from its work dir) restarts at once.
    const restart = r.replaces !== undefined && existing?.session === r.replaces;
    if (existing && !restart && heldByAnother(existing, r.session, now, engine.runnerTimeoutMs, engine.startedAt)) {
      const heard = Math.round((now - existing.updatedAt) / 1000);
      throw new ConflictError(
        `runner ${r.name} is already running on ${existing.host} (last heard ${heard} s ago): ` +
          'stop that process first, or add a runner for this machine with: dstack runners add NAME',
      );
    }
    await store.upsertRunner({
      name: r.name,
      host: r.host,
      total: r.total,
      status: 'ACTIVE',
      updatedAt: now,
      registeredAt: existing?.registeredAt ?? now,
      ...(r.session === undefined ? {} : { session: r.session }),
    });
    // A runner that (re)starts without a job it held has lost it: say so rather than wait forever.
    // One it lists is one whose workspace it found and is saving (agent.ts `recover`): left to it.
    await engine.failJobsOf(r.name, runnerRestarted, `runner:${r.name}`, r.jobIds);
    engine.logger.info(`runner ${r.name} registered`, {
      host: r.host,
      cpu: r.total.cpu,
      gpus: r.total.gpus.length,
      ...abilitiesOf(r.total),
    });
    engine.presence.undrain(r.name); // back after a shutdown: it takes work again
    engine.wakeRunners();
    return { ok: true, heartbeatMs: engine.heartbeatMs };
  };

  // A runner shutting down: no more work for it (its waiting claim is answered now, with none),
  // and its jobs stop as `dstack stop` stops them; it waits for them, then exits.
  app.post('/drain', async (c) => {
    const r = await body(c, schemas.drainRunner);
    self(c, r.name);
    await registered(r.name, r.session);
    engine.presence.drain(r.name);
    const jobs = await store.activeJobsOfRunner(r.name);
    await stopJobs(engine, jobs, { actor: `runner:${r.name}`, reason: r.reason });
    engine.logger.info(`runner ${r.name} is shutting down`, { stopping: jobs.length });
    return c.json({ stopping: jobs.length });
  });

  // A runner shut down once its jobs ended (after its drain): OFFLINE, not lost a minute later.
  app.post('/leave', async (c) => {
    const r = await body(c, schemas.leaveRunner);
    self(c, r.name);
    await registered(r.name, r.session);
    // A job whose end it could not report is lost with it, as one it no longer holds at a register.
    await engine.failJobsOf(r.name, RUNNER_LOST, `runner:${r.name}`);
    await store.setRunnerStatus(r.name, 'OFFLINE');
    engine.logger.info(`runner ${r.name} shut down`);
    return c.json({ ok: true });
  });

  app.post('/claim', async (c) => {
    const r = await body(c, schemas.claim);
    self(c, r.name);
    await alive(r.name, r.session);
    const assignment = await longPoll(engine, c.get('caller'), c.req.raw.signal, (signal) =>
      claim(engine, r.name, r.jobIds, r.waitMs, signal),
    );
    return c.json({ assignment: assignment ?? null });
  });

  /** What a heartbeat answers: a command for each job of `jobIds` the runner should end or stop; undefined for none. */
  const commandsFor = async (name: string, jobIds: readonly string[]): Promise<RunnerCommand[] | undefined> => {
    const found: RunnerCommand[] = [];
    // Every job change wakes this check: one query for the runner's jobs, not one per job.
    const jobs = await store.jobsByIds(jobIds);
    for (const id of jobIds) {
      const job = jobs.get(id);
      // A job the server no longer gives this runner (lost while the runner was away): end it.
      if (!job || job.runner !== name || isFinished(job.status)) {
        found.push({ jobId: id, action: 'abort', reason: notThisRunners(job) });
      } else if (job.stopRequest && (job.status === 'STOPPING' || job.status === 'ABORTING')) {
        found.push({
          jobId: id,
          action: job.stopRequest,
          ...(job.stopGraceMs === undefined ? {} : { graceMs: job.stopGraceMs }),
        });
      }
    }
    return found.length > 0 ? found : undefined;
  };

  /** Why a job a runner holds is no longer its to run, as its log and the runner's say. */
  const notThisRunners = (job: JobRecord | undefined): string => {
    if (!job) return 'the server no longer has the job';
    if (isFinished(job.status)) return `the server had ended it: ${job.status}${job.reason ? `: ${job.reason}` : ''}`;
    return `the server gave the job to runner ${job.runner ?? '(none yet)'}`;
  };

  app.post('/heartbeat', async (c) => {
    const r = await body(c, schemas.heartbeat);
    self(c, r.name);
    await alive(r.name, r.session);
    if (r.total !== undefined) {
      // What it can run changed (its Docker engine came or went): claims and waiting reasons follow.
      await store.setRunnerTotal(r.name, r.total);
      engine.logger.info(`runner ${r.name} can now run`, abilitiesOf(r.total));
      engine.wakeRunners();
    }
    // The registered process lists every job it holds (a one-shot `runner exec` sends no session, and only its own job).
    if (r.session !== undefined) await dropped.heartbeat(r.name, r.jobIds);
    const commands = await longPoll(engine, c.get('caller'), c.req.raw.signal, (signal) =>
      engine.waitFor(() => commandsFor(r.name, r.jobIds), r.waitMs, signal, ['job']),
    );
    return c.json({ commands: commands ?? [] });
  });

  const transition = async (c: Context<ApiEnv>, id: string, t: RunnerTransitionRequest) => {
    const patch: Parameters<typeof engine.transition>[3] = {};
    if (t.reason !== undefined) patch.reason = t.reason;
    if (t.exitCode !== undefined) patch.exitCode = t.exitCode;
    // Only a failure's: RUNNING itself says that they started.
    if (t.commandsStarted === false && t.to === 'FAILED') patch.commandsStarted = false;
    const runner = c.get('caller').name;
    // Guarded by the runner too: a job that is not this runner's is not touched, and only a
    // refusal reads the job, to say why (no such job, another runner's, or its actual status).
    const result = await engine.transition(id, t.from, t.to, patch, `runner:${runner}`, { runner });
    if (result.ok) return { ok: true, job: result.value } satisfies RunnerTransitionAnswer;
    const job = await ownJob(c, id);
    // A mismatch is an answer, not an error: the runner learns the job's actual status (a stop, say).
    return { ok: false, actual: job.status } satisfies RunnerTransitionAnswer;
  };

  app.post('/jobs/:id/transition', async (c) => {
    const t = await body(c, schemas.runnerTransition);
    return c.json(await transition(c, c.req.param('id'), t));
  });

  // With `then`, the transition follows once the batch is stored: a job's last output and its
  // final status in one request, and followers that see the status have every line before it.
  app.post('/jobs/:id/logs', async (c) => {
    const q = query(c, schemas.runnerLogsQuery);
    const then = thenOf(q.then);
    const entries = await logBatchBody(c);
    const offset = runnerClockOffset(q.sent, c.get('receivedAt'));
    if (offset !== 0) for (const e of entries) e.ts += offset;
    const job = await ownJob(c, c.req.param('id'));
    if (isFinished(job.status) && !endedWithRunner(job.reason)) {
      const stored = await engine.logs.lastSequence(job.id);
      if (entries.some((e) => e.seq > stored)) throw ended(job, 'log lines');
    }
    const lastSeq = await engine.logs.append(job.id, entries);
    if (isFinished(job.status)) engine.logArchive?.lateLines(job.id);
    if (!then) return c.json({ lastSeq });
    return c.json({ lastSeq, transition: await transition(c, job.id, then) });
  });

  // A runner stopping its own job as a drain does, for that job alone: a Slurm batch job's runner
  // whose SIGTERM dstack did not send (Slurm's time limit, a preemption). A user's stop already
  // under way is kept; the answer is the job as it is then, its stop request saying whose it is.
  app.post('/jobs/:id/stop', async (c) => {
    const r = await body(c, schemas.stopOwnJob);
    const job = await ownJob(c, c.req.param('id'));
    if (isFinished(job.status)) throw new ConflictError(`job ${job.id} has ended (${job.status})`);
    const actor = `runner:${c.get('caller').name}`;
    await stopJobs(engine, [job], { actor, reason: r.reason, graceMs: r.graceMs });
    return c.json({ job: await ownJob(c, job.id) });
  });

  app.put('/jobs/:id/artifacts', async (c) => {
    const manifest = await body(c, schemas.artifactManifest);
    const job = await ownJob(c, c.req.param('id'));
    if (isFinished(job.status)) throw ended(job, 'artifacts');
    // An abort saves nothing, whatever the runner had uploaded before it heard of it.
    if (job.status === 'ABORTING')
      throw new ConflictError(`job ${job.id} is being aborted: its artifacts are not kept`);
    const digests = manifest.artifacts.flatMap((a) => a.files.flatMap((f) => (f.digest ? [f.digest] : [])));
    // A manifest is accepted only once every blob it names is stored, so it never points at nothing.
    const missing = await engine.blobs.missing(digests);
    if (missing.length > 0) throw new ConflictError(`${missing.length} artifact blobs are not uploaded yet`);
    await store.setArtifacts(job.id, manifest);
    return c.json({ ok: true });
  });
  return app;
}

/** The `then` query parameter of a log batch: the transition to make after it, validated. */
function thenOf(text: string | undefined): RunnerTransitionRequest | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidError("query parameter 'then' is not valid JSON");
  }
  const parsed = schemas.runnerTransition.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidError(`query parameter 'then': ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  return parsed.data;
}

/** What a runner told it can run, for the log (nothing from an older runner). */
function abilitiesOf(total: Capacity): {
  docker?: boolean;
  dockerProblem?: string;
  python?: string;
  hostJobs?: boolean;
} {
  return {
    ...(total.host === undefined ? {} : { hostJobs: total.host }),
    ...(total.docker === undefined ? {} : { docker: total.docker }),
    ...(total.dockerProblem === undefined ? {} : { dockerProblem: total.dockerProblem }),
    ...(total.python === undefined ? {} : { python: total.python.join(' ') || 'none' }),
  };
}
