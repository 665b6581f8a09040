/**
 * The Slurm backend: inside the server, a runner named `slurm` (by default) whose capacity
 * is the partition's. It claims ready jobs like any runner, submits each with `sbatch`, and
 * tracks them in Slurm; the batch job runs `dstack runner exec`, which reports over HTTP.
 */
import { join } from 'node:path';
import { pause } from '../../../core/concurrency.js';
import { UnavailableError, UsageError } from '../../../core/errors.js';
import type { JobRecord } from '../../../core/records.js';
import type { Logger } from '../../../logger.js';
import { runnerEnvironment } from '../../../runner/environment.js';
import type { Engine, ManagedRunner } from '../../engine.js';
import { hostPythons } from '../../../runner/abilities.js';
import type { Capacity } from '../../../core/resources.js';
import { clusterCapacity } from './capacity.js';
import { claimForSlurm } from './claim.js';
import { CommandSlurm } from './command-slurm.js';
import type { SlurmBackendOptions } from './options.js';
import { RetiredTokens, ensureRunnerToken, keepRunnerToken, replaceRunnerToken } from './runner-token.js';
import { SlurmSubmitter } from './submitter.js';
import { TrackedJobs } from './tracked-jobs.js';
import { SlurmTracker } from './tracker.js';
import { failUnfittable } from './unfittable.js';
import type { SlurmCommands, SlurmNode } from './types.js';
import { RUNNER_LOST } from '../../../core/job-status.js';
import { makeChosenFolder } from '../../../files/make-folder.js';

/** How often the partition's nodes are read again (capacity changes as nodes go down and up). */
const NODES_EVERY_MS = 60_000;
/** How often the runner row is marked alive (the monitor's runner timeout is 60 s by default). */
const ALIVE_EVERY_MS = 1000;
/** How often waiting jobs are checked against the nodes (a read of every waiting job: not every poll). */
const UNFITTABLE_EVERY_MS = 2000;
/**
 * How many sbatch calls may be under way at once. A claimed job is handed to sbatch without
 * waiting for the one before (each takes tens of ms, mostly process start), so the jobs that
 * become ready together reach Slurm together; a bound keeps a burst from forking hundreds.
 */
const SBATCH_AT_ONCE = 8;

export class SlurmBackend implements ManagedRunner {
  private stopped = false;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly submitting = new Set<Promise<void>>();
  private nodesReadAt = 0;
  private unfittableCheckedAt = 0;
  private replacing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly engine: Engine,
    private readonly options: SlurmBackendOptions & { serverUrl: string },
    private readonly slurm: SlurmCommands,
    private readonly cluster: { nodes: SlurmNode[] },
    private readonly submitter: SlurmSubmitter,
    private readonly tracker: SlurmTracker,
    private readonly tokenFile: string,
    /** What its nodes can run besides their size (core/job-needs.ts), told with its capacity. */
    private readonly abilities: Pick<Capacity, 'docker' | 'python'>,
    private readonly retired: RetiredTokens,
    private readonly logger: Logger,
  ) {}

  /**
   * Check that Slurm answers, register the runner, and start submitting and tracking.
   * `stateDir` (in the server's data dir) keeps the runner token; the submitted jobs are in the database.
   */
  static async start(
    engine: Engine,
    options: SlurmBackendOptions & { serverUrl: string },
    stateDir: string,
    logger: Logger,
    slurm: SlurmCommands = new CommandSlurm({
      paths: options.paths,
      ...(options.partition ? { partition: options.partition } : {}),
      // The server's environment less dstack's settings and secrets: batch jobs inherit it.
      env: runnerEnvironment(),
      logger,
    }),
  ): Promise<SlurmBackend> {
    await slurm.check();
    // Every partition named: sinfo lists the nodes of those that exist, and sbatch refuses them all for one that does not.
    if (options.partition) await partitionsExist(slurm, options.partition);
    await checkSbatchArgs(slurm, options, logger);
    const nodes = await slurm.nodes();
    if (nodes.length === 0) {
      throw new UnavailableError(
        options.partition
          ? `Slurm partition '${options.partition}' has no nodes (sinfo lists none)`
          : 'sinfo lists no Slurm nodes',
      );
    }
    // A folder the admin chose (--slurm-work-dir, work-dir in --config, the data dir): a usage error, not a bug.
    await makeChosenFolder(options.workDir, {
      ...(options.workDirSetting ?? { setting: '--slurm-work-dir', value: options.workDir }),
      hint: 'give --slurm-work-dir (or work-dir in --config) a folder the server and the compute nodes share and can write',
    });
    const tracked = await TrackedJobs.open(engine.store, options.name, join(stateDir, 'jobs.json'));
    const tokenFile = join(stateDir, 'runner-token');
    const { token, others } = await ensureRunnerToken(engine.store, options.name, tokenFile);
    const retired = new RetiredTokens(engine.store, others, tracked);
    if (others.length > 0)
      logger.info(
        `runner '${options.name}' has older tokens (a start on a new data folder): they stay valid until ` +
          `the ${tracked.all().length} batch jobs submitted before this start have ended`,
      );
    const tracker = new SlurmTracker({
      engine,
      slurm,
      tracked,
      workDir: options.workDir,
      defaultGraceMs: options.stopGraceMs,
      logger,
      actor: `runner:${options.name}`,
    });
    // The nodes as last read, shared with the submitter, which checks that a job fits one of them.
    const cluster = { nodes };
    const submitter = new SlurmSubmitter({
      engine,
      slurm,
      tracked,
      options,
      token,
      nodes: () => cluster.nodes,
      logger,
    });
    // Batch jobs inherit the server's environment, PATH included: by default their Pythons are its.
    const abilities = { docker: options.docker, python: options.python ?? (await hostPythons(runnerEnvironment())) };
    const backend = new SlurmBackend(
      engine,
      options,
      slurm,
      cluster,
      submitter,
      tracker,
      tokenFile,
      abilities,
      retired,
      logger,
    );
    await backend.register();
    engine.managedRunners.set(options.name, backend);
    // A job claimed before a crash but never handed to sbatch has no Slurm job: say so.
    for (const job of await engine.store.activeJobsOfRunner(options.name)) {
      if (!tracked.get(job.id))
        await engine.transition(job.id, job.status, 'FAILED', { reason: RUNNER_LOST }, `runner:${options.name}`);
    }
    backend.loops = [backend.submitLoop(), backend.trackLoop(), backend.aliveLoop()];
    const total = clusterCapacity(nodes);
    logger.info(`slurm backend ready as runner '${options.name}'`, {
      partition: options.partition ?? '(default)',
      nodes: nodes.length,
      cpu: total.cpu,
      gpus: total.gpus.length,
      docker: abilities.docker,
      python: abilities.python.join(', ') || '(none)',
      workDir: options.workDir,
      serverUrl: options.serverUrl,
    });
    return backend;
  }

  async close(): Promise<void> {
    if (this.engine.managedRunners.get(this.options.name) === this)
      this.engine.managedRunners.delete(this.options.name);
    this.stopped = true;
    this.abort.abort();
    this.submitter.close();
    await Promise.allSettled(this.loops);
    await Promise.allSettled(this.submitting);
  }

  /**
   * `dstack runners token slurm`: batch jobs submitted from now on get the new token, and the
   * file holds it for the next start. Those submitted before keep the old one, which is refused:
   * the route fails their jobs (`runner token replaced`), as it does any runner's.
   */
  async replaceToken(): Promise<void> {
    // One at a time: two at once could leave the one the store refused in use.
    const replaced = this.replacing.then(async () => {
      const token = await replaceRunnerToken(this.engine.store, this.options.name);
      // In use at once, then kept: a file that cannot be written fails the request, not the
      // submissions; a crash before it is written leaves a refused token there, which the next
      // start replaces as a lost one.
      this.submitter.token = token;
      await keepRunnerToken(this.tokenFile, token);
    });
    this.replacing = replaced.catch(() => undefined);
    await replaced;
    this.logger.info(`runner '${this.options.name}' has a new token: the batch jobs submitted from now on get it`);
  }

  private async register(): Promise<void> {
    const { store } = this.engine;
    const now = Date.now();
    const existing = await store.getRunner(this.options.name);
    await store.upsertRunner({
      name: this.options.name,
      host: `slurm${this.options.partition ? `:${this.options.partition}` : ''}`,
      // The partition's: what `dstack runners` shows and waiting reasons weigh. The queue beyond it is claim.ts's.
      total: { ...clusterCapacity(this.cluster.nodes), ...this.abilities },
      status: 'ACTIVE',
      updatedAt: now,
      registeredAt: existing?.registeredAt ?? now,
    });
    this.nodesReadAt = now;
    this.engine.wakeRunners();
  }

  private async submitLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const assignment = await this.engine.waitFor(
          () => claimForSlurm(this.engine, this.options.name, this.options.queueDepth),
          10_000,
          this.abort.signal,
        );
        if (assignment) this.submitInBackground(assignment.job);
        if (this.submitting.size >= SBATCH_AT_ONCE) await Promise.race(this.submitting);
      } catch (e) {
        if (this.stopped) return;
        this.logger.error('submitting to Slurm failed', { error: String(e) });
        await pause(1000);
      }
    }
  }

  private submitInBackground(job: JobRecord): void {
    const submission: Promise<void> = this.submitter
      .submit(job)
      .catch((e: unknown) => this.logger.error(`submitting job ${job.id} to Slurm failed`, { error: String(e) }))
      .finally(() => this.submitting.delete(submission));
    this.submitting.add(submission);
  }

  /**
   * The runner row stays ACTIVE while the backend runs, on its own clock: a slow slurmctld must
   * not make the monitor take the runner for lost (and fail every job it holds).
   */
  private async aliveLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        if ((await this.engine.store.heartbeat(this.options.name, Date.now())) === 'LOST') await this.register();
      } catch (e) {
        this.logger.error('heartbeat of the Slurm runner failed', { error: String(e) });
      }
      await pause(ALIVE_EVERY_MS, this.abort.signal);
    }
  }

  /** Follows the submitted jobs in Slurm, and fails the waiting ones no node could ever run. */
  private async trackLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (Date.now() - this.nodesReadAt > NODES_EVERY_MS) await this.refreshNodes();
        await this.tracker.tick();
        const revoked = await this.retired.settle();
        if (revoked > 0)
          this.logger.info(
            `the batch jobs submitted before this start have ended: revoked ${revoked} older token(s) of runner '${this.options.name}'`,
          );
      } catch (e) {
        this.logger.error('tracking Slurm jobs failed', { error: String(e) });
      }
      if (Date.now() - this.unfittableCheckedAt > UNFITTABLE_EVERY_MS) {
        this.unfittableCheckedAt = Date.now();
        await failUnfittable(this.engine, this.options.name, this.cluster.nodes).catch((e: unknown) =>
          this.logger.error('checking waiting jobs against the Slurm nodes failed', { error: String(e) }),
        );
      }
      await pause(this.options.pollMs, this.abort.signal);
    }
  }

  private async refreshNodes(): Promise<void> {
    this.nodesReadAt = Date.now();
    try {
      const nodes = await this.slurm.nodes();
      if (nodes.length > 0) this.cluster.nodes = nodes;
      await this.register();
    } catch (e) {
      this.logger.warn('reading the Slurm nodes failed; keeping the last capacity', { error: String(e) });
    }
  }
}

/**
 * Refuse extra sbatch options that sbatch cannot read (`--qoss=normal`), which every job's
 * submission failed on, found only at the first job. Asked with `--test-only`, which a cluster
 * whose nodes are drained refuses too: that is only warned of, since it may pass.
 */
async function checkSbatchArgs(slurm: SlurmCommands, options: SlurmBackendOptions, logger: Logger): Promise<void> {
  if (options.sbatchArgs.length === 0 || !slurm.testOptions) return;
  const args = [
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.account ? [`--account=${options.account}`] : []),
    ...options.sbatchArgs,
  ];
  const said = await slurm.testOptions(args);
  if (said !== undefined)
    logger.warn(
      `sbatch --test-only ${args.join(' ')} refused a job: ${said}; starting all the same, as that may be the ` +
        "cluster's state (drained nodes): jobs are submitted with these options, and fail with sbatch's words if it stays",
    );
}

/**
 * Refuse a partition asked for that does not exist (a typo): sinfo lists no nodes for it, which
 * said it `has no nodes` and sent the admin looking at nodes; in a list (`gpu,cpu`, as sbatch
 * takes it) sinfo lists the others' nodes, and every job failed at sbatch.
 */
async function partitionsExist(slurm: SlurmCommands, partition: string): Promise<void> {
  const known = await slurm.partitions();
  const missing = partition
    .split(',')
    .map((p) => p.trim())
    .filter((p) => !known.includes(p));
  if (missing.length === 0) return;
  const names = missing.map((p) => `'${p}'`).join(', ');
  const which = known.length > 0 ? `its partitions are ${known.join(', ')}` : 'it lists none';
  throw new UsageError(
    `Slurm partition${missing.length === 1 ? ` ${names} does` : `s ${names} do`} not exist (sinfo: ${which}): check --slurm-partition (or partition in --config)`,
  );
}
