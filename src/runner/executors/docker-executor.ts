/**
 * Runs a job's commands in a Docker container: the image (pulled when missing), the
 * workspace mounted at /workspace, resources as limits, output demultiplexed into the job's
 * log. The container is removed when it ends, whatever ended it; what it wrote is given back
 * first to a runner that is not root (docker/ownership.ts).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { assertNever, InternalError, InvalidError } from '../../core/errors.js';
import { keptUnlessFailed } from '../../core/concurrency.js';
import type { ContainerEnd } from './docker/container-exit.js';
import type { ContainerEvents } from './docker/container-events.js';
import { containerOptions, containerScript, JOB_LABEL, writableMounts } from './docker/container-spec.js';
import {
  CONTAINER_ROOT,
  giveBackAfter,
  handToImageUser,
  nonRootUser,
  ownerOfJobFiles,
  ownedBy,
  runnerUser,
  type Owner,
} from './docker/ownership.js';
import { type Execution, type ExecutionRequest, type Executor, type ExitResult } from './executor.js';
import { MissingShell } from './docker/missing-shell.js';
import { loopbackOnly, naming } from './docker/network.js';
import { makeFolder } from '../../files/make-folder.js';
import { formatSize } from '../../core/resources.js';

export interface DockerExecutorOptions {
  /** `DOCKER_HOST`: `unix:///var/run/docker.sock`, `tcp://host:2375`. */
  host: string;
  /** Network mode of the containers (`host`, `none`, ...). */
  network: string;
  /** Where job scripts are written on the host (they are mounted read-only). */
  scriptDir: string;
  /** Labels for every container, besides `dstack.job`. */
  labels?: Record<string, string>;
  /**
   * Who a job's files are given back to when its commands end (docker/ownership.ts). Default:
   * the runner's user when it is not root and the engine's root is the host's; else no one.
   */
  owner?: Owner;
  /**
   * How long (ms) a job whose kill its engine did not answer waits for it to answer again
   * before it ends all the same, its container perhaps still running. Default 30 000.
   */
  unansweredKillMs?: number;
}

/**
 * The engine modules load dockerode (with ssh2 and grpc-js: about 160 ms of CPU), so they are
 * imported when a container is really wanted, not by every CLI command that can reach this file.
 */
const engineModule = () => import('./docker/engine.js');

/** Output still in flight when the container has exited gets this long to arrive (since the last of it). */
const DRAIN_MS = 5000;
const UNANSWERED_KILL_MS = 30_000;
/**
 * How a container ends that its engine stopped as it shut down: its stop signal (SIGTERM), or
 * the SIGKILL after the engine's shutdown timeout. Only these, with the engine gone, are its doing.
 */
const ENGINE_STOP_CODES: readonly number[] = [128 + 15, 128 + 9];
const ENGINE_STOPPED = 'its Docker engine shut down, stopping its container';
const STOPPED_OUTSIDE = 'its container was stopped outside dstack (docker stop or docker kill)';

/**
 * Why a container that the runner did not signal was ended from outside, if it was: by its
 * engine shutting down, or by `docker stop`/`docker kill`. Its log said which engine when that
 * stopped answering (EngineLink).
 */
async function endedOutside(
  end: Extract<ContainerEnd, { kind: 'ended' }>,
  events: ContainerEvents | undefined,
): Promise<string | undefined> {
  if (events?.killed) return end.engineLost || (await events.engineClosing()) ? ENGINE_STOPPED : STOPPED_OUTSIDE;
  // Its kill unseen, the engine gone meanwhile: ended as a shutdown ends it.
  if (end.engineLost && ENGINE_STOP_CODES.includes(end.code)) return ENGINE_STOPPED;
  return undefined;
}

export class DockerExecutor implements Executor {
  private docker: Docker | undefined;
  private owner: Promise<Owner | undefined> | undefined;
  private cpus: (() => Promise<number | undefined>) | undefined;

  constructor(private readonly options: DockerExecutorOptions) {}

  /** The engine, connected on first use (and again after a failure: it may have started since). */
  async engine(): Promise<Docker> {
    const { connectDocker } = await engineModule();
    this.docker ??= await connectDocker(this.options.host);
    return this.docker;
  }

  /** Who jobs' files go back to; found once (the engine's settings, when the runner is not root). */
  private ownerOf(docker: Docker): Promise<Owner | undefined> {
    return (this.owner ??= this.options.owner ? Promise.resolve(this.options.owner) : ownerOfJobFiles(docker));
  }

  /**
   * The cores of the engine's machine, the most a container's CPU limit may be; found once, but
   * asked again after a failure (undefined then: the job's limit goes to the engine as it is).
   */
  private cpusOf(docker: Docker): Promise<number | undefined> {
    this.cpus ??= keptUnlessFailed(() =>
      docker
        .info()
        .then((info: { NCPU?: unknown }) => (typeof info.NCPU === 'number' && info.NCPU > 0 ? info.NCPU : undefined)),
    );
    return this.cpus().catch(() => undefined);
  }

  /**
   * `request` with its CPU limit at most the engine machine's cores, which the engine refuses to
   * exceed (`Range of CPUs is from 0.01 to 2.00`): a runner may be declared with more
   * (`dstack runner start --cpu 8` on 2 cores), and its job then runs on all there are.
   */
  private async withinCores(docker: Docker, request: ExecutionRequest): Promise<ExecutionRequest> {
    const asked = request.resources?.cpu ?? 0;
    const cores = asked > 0 ? await this.cpusOf(docker) : undefined;
    if (cores === undefined || asked <= cores) return request;
    request.onNote?.(
      `the job asks for ${asked} CPUs, and the Docker engine's machine has ${cores}: its container is limited to ${cores}`,
    );
    return { ...request, resources: { ...request.resources!, cpu: cores } };
  }

  async start(request: ExecutionRequest): Promise<Execution> {
    const image = request.image;
    if (image === undefined) throw new InternalError('the docker executor was given a job without an image');
    const docker = await this.engine();
    const [
      { engineMessage, engineAddress, parseDockerHost },
      { ensureImage },
      { EngineLink, removeContainer },
      { ContainerOutput },
      { ContainerExit },
      { ContainerEvents },
    ] = await Promise.all([
      engineModule(),
      import('./docker/image.js'),
      import('./docker/engine-link.js'),
      import('./docker/container-output.js'),
      import('./docker/container-exit.js'),
      import('./docker/container-events.js'),
    ]);
    const imageInfo = await ensureImage(docker, image, request.onNote, request.signal);
    request.signal?.throwIfAborted(); // stopped or aborted while its image was looked up or pulled: no container
    for (const mount of request.mounts ?? []) await makeFolder(mount.host);
    await makeFolder(this.options.scriptDir);
    const scriptFile = join(this.options.scriptDir, `${request.jobId}.sh`);
    await writeFile(scriptFile, containerScript(request.commands), { mode: 0o644 });
    const owner = await this.ownerOf(docker);
    // The script goes with the container: it holds the job's commands with their variables' values.
    const removeFiles = () => rm(scriptFile, { force: true });

    const labels = this.options.labels ?? {};
    const jobLabels = { ...labels, [JOB_LABEL]: request.jobId };
    // An image whose USER is not root gets its folders (the runner's) to write, and gives them back after.
    const user = nonRootUser(imageInfo.Config?.User);
    if (user !== undefined) {
      await handToImageUser(docker, image, writableMounts(request), user, jobLabels).catch((e: unknown) => {
        request.onNote?.(
          `could not give the job's folders to the image's user '${user}' (${engineMessage(e)}): ` +
            'its commands may not be able to write them',
        );
      });
    }
    // Even a hand-over that failed may have given some of them (chown goes file by file).
    const back = owner ?? (user !== undefined ? CONTAINER_ROOT : undefined);
    // Files that are not the runner's user's once the job ended (the entry script killed first,
    // its chown failed, or none ran) go back from another container.
    const giveBackLeft = async () => {
      if (!back) return;
      const mounts = writableMounts(request);
      const folders = mounts.map((m) => m.host);
      if (await ownedBy(folders, owner ?? runnerUser())) return;
      await giveBackAfter(docker, image, mounts, back, jobLabels).catch((e: unknown) => {
        request.onNote?.(`could not give the job's files back to uid ${back.uid}: ${engineMessage(e)}`);
      });
    };
    if (user !== undefined && request.signal?.aborted) {
      // Stopped or aborted during the hand-over: no container, and the folders go back.
      await giveBackLeft();
      await removeFiles();
      request.signal.throwIfAborted();
    }
    const options = containerOptions(await this.withinCores(docker, request), scriptFile, {
      network: this.options.network,
      labels,
      ...(owner && { giveBackTo: owner }),
    });
    let container: Docker.Container;
    try {
      container = await docker.createContainer(options);
    } catch (e) {
      await giveBackLeft();
      await removeFiles();
      throw new InvalidError(
        `cannot create a container of image '${image}': ${naming(engineMessage(e), this.options.network)}`,
      );
    }
    // Before it starts too: a kill from outside dstack is not missed.
    const events = await ContainerEvents.watch(docker, container.id);
    // Watched before it starts: should this process die while it runs, the container is stopped.
    const unguard = await request.guard
      ?.guardContainer(engineAddress(this.options.host), container.id)
      .catch(() => undefined);
    const remove = async () => {
      // An engine that does not answer keeps the guard: a runner that dies meanwhile still has it stopped.
      await removeContainer(container, () => unguard?.());
      await removeFiles();
    };
    const link = new EngineLink(container, parseDockerHost(this.options.host).label, (text) => request.onNote?.(text));
    let told!: (end: Promise<ContainerEnd>) => void;
    const shell = new MissingShell();
    const sink = { ...request, onOutput: shell.watch(request.onOutput) };
    const output = new ContainerOutput(docker, container, sink, link, new Promise((resolve) => (told = resolve)));
    try {
      // Attached before it starts: not a line of output is lost.
      await output.attach();
      await container.start();
    } catch (e) {
      output.abandon();
      await remove();
      await giveBackLeft();
      throw new InvalidError(
        `cannot start a container of image '${image}': ${naming(engineMessage(e), this.options.network)}`,
      );
    }
    const warning = await loopbackOnly(container, this.options.network).catch(() => undefined);
    if (warning) request.onNote?.(warning);
    const giveUpMs = this.options.unansweredKillMs ?? UNANSWERED_KILL_MS;
    const watch = new ContainerExit(container, link, giveUpMs);
    told(watch.end);

    let signalled: NodeJS.Signals | null = null;
    const exit = (async (): Promise<ExitResult> => {
      try {
        const end = await watch.end;
        await output.settle(DRAIN_MS, giveUpMs);
        switch (end.kind) {
          case 'ended': {
            await giveBackLeft();
            const outside = signalled === null ? await endedOutside(end, events) : undefined;
            if (outside) return { code: end.code, signal: null, reason: outside, interrupted: true };
            const reason = end.oom && end.code !== 0 ? outOfMemory(request) : shell.reason(end.code, image);
            return { code: end.code, signal: signalled, ...(reason === undefined ? {} : { reason }) };
          }
          case 'gone':
            await giveBackLeft();
            return {
              code: null,
              signal: signalled,
              reason: `its container was removed from the Docker engine at ${link.label} outside dstack`,
            };
          case 'unanswered':
            return {
              code: null,
              signal: signalled,
              reason: `the Docker engine at ${link.label} did not answer after the job was killed: its container may still run until the runner starts again`,
            };
          default:
            return assertNever(end);
        }
      } finally {
        events?.close();
        output.abandon();
        await remove();
      }
    })();
    const send = (signal: NodeJS.Signals) => {
      signalled = signal;
      watch.send(signal);
      if (!link.unreachable) return;
      const meanwhile = signal === 'SIGKILL' ? `, and the job ends in ${giveUpMs / 1000} s if it never does` : '';
      request.onNote?.(
        `the Docker engine at ${link.label} does not answer: ${signal} goes to the job's container once it does${meanwhile}`,
      );
    };
    return { pid: undefined, exit, terminate: () => send('SIGTERM'), kill: () => send('SIGKILL') };
  }
}

/**
 * The reason of a job the engine killed out of memory: with the limit its `resources.memory` set
 * (`out of memory: over its limit of 64MB from resources.memory`), so the user sees what to raise
 * and that it was the job's own limit, not the machine's memory.
 */
function outOfMemory(request: ExecutionRequest): string {
  const limit = request.resources?.memory ?? 0;
  return limit > 0 ? `out of memory: over its limit of ${formatSize(limit)} from resources.memory` : 'out of memory';
}
