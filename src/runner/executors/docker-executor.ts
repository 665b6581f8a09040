/**
 * Runs a job's commands in a Docker container: the image (pulled when missing), the
 * workspace mounted at /workspace, resources as limits, output demultiplexed into the job's
 * log. The container is removed when it ends, whatever ended it; what it wrote is given back
 * first to a runner that is not root (docker/ownership.ts).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { InternalError, InvalidError } from '../../core/errors.js';
import { containerOptions, JOB_LABEL, writableMounts } from './docker/container-spec.js';
import { giveBackAfter, ownerOfJobFiles, wasGivenBack, type Owner } from './docker/ownership.js';
import { readOutput, type Execution, type ExecutionRequest, type Executor, type ExitResult } from './executor.js';
import { scriptOf } from './process-executor.js';
import { makeFolder } from '../../files/make-folder.js';

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
}

/**
 * The engine modules load dockerode (with ssh2 and grpc-js: about 160 ms of CPU), so they are
 * imported when a container is really wanted, not by every CLI command that can reach this file.
 */
const engineModule = () => import('./docker/engine.js');

/** Output still in flight when the container has exited gets this long to arrive. */
const DRAIN_MS = 5000;

export class DockerExecutor implements Executor {
  private docker: Docker | undefined;
  private owner: Promise<Owner | undefined> | undefined;

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

  async start(request: ExecutionRequest): Promise<Execution> {
    const image = request.image;
    if (image === undefined) throw new InternalError('the docker executor was given a job without an image');
    const docker = await this.engine();
    const [{ engineMessage, engineAddress }, { ensureImage }] = await Promise.all([
      engineModule(),
      import('./docker/image.js'),
    ]);
    await ensureImage(docker, image, request.onNote, request.signal);
    request.signal?.throwIfAborted(); // stopped or aborted while its image was looked up or pulled: no container
    for (const mount of request.mounts ?? []) await makeFolder(mount.host);
    await makeFolder(this.options.scriptDir);
    const scriptFile = join(this.options.scriptDir, `${request.jobId}.sh`);
    await writeFile(scriptFile, scriptOf(request.commands), { mode: 0o644 });
    const owner = await this.ownerOf(docker);
    const markFile = join(this.options.scriptDir, `${request.jobId}.owned`);
    if (owner) await writeFile(markFile, '', { mode: 0o600 });
    // The script goes with the container: it holds the job's commands with their variables' values.
    const removeFiles = async () => {
      await Promise.all([rm(scriptFile, { force: true }), owner && rm(markFile, { force: true })]);
    };

    const labels = this.options.labels ?? {};
    const options = containerOptions(request, scriptFile, {
      network: this.options.network,
      labels,
      ...(owner && { giveBack: { owner, markFile } }),
    });
    let container: Docker.Container;
    try {
      container = await docker.createContainer(options);
    } catch (e) {
      await removeFiles();
      throw new InvalidError(`cannot create a container of image '${image}': ${engineMessage(e)}`);
    }
    // Watched before it starts: should this process die while it runs, the container is stopped.
    const unguard = await request.guard
      ?.guardContainer(engineAddress(this.options.host), container.id)
      .catch(() => undefined);
    const remove = async () => {
      await container.remove({ force: true, v: true }).catch(() => {});
      unguard?.();
      await removeFiles();
    };
    // Files the entry script did not give back (killed first, or its chown failed) go back from another container.
    const giveBackLeft = async () => {
      if (!owner || (await wasGivenBack(markFile))) return;
      const jobLabels = { ...labels, [JOB_LABEL]: request.jobId };
      await giveBackAfter(docker, image, writableMounts(request), owner, jobLabels).catch((e: unknown) => {
        request.onNote?.(`could not give the job's files back to uid ${owner.uid}: ${engineMessage(e)}`);
      });
    };
    let drained: Promise<void>;
    try {
      // Attached before it starts: not a line of output is lost.
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      const out = new PassThrough();
      const err = new PassThrough();
      // Both streams come multiplexed on one connection: a full log queue pauses that.
      const attached = stream as unknown as Readable;
      readOutput(out, 'stdout', request, attached);
      readOutput(err, 'stderr', request, attached);
      docker.modem.demuxStream(stream, out, err);
      drained = new Promise((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      await container.start();
    } catch (e) {
      await remove();
      throw new InvalidError(`cannot start a container of image '${image}': ${engineMessage(e)}`);
    }

    let signalled: NodeJS.Signals | null = null;
    const exit = (async (): Promise<ExitResult> => {
      try {
        const result = (await container.wait()) as { StatusCode: number };
        await Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
        const info = await container.inspect().catch(() => undefined);
        const code = result.StatusCode;
        const oom = info?.State?.OOMKilled === true && code !== 0;
        await giveBackLeft();
        return { code, signal: signalled, ...(oom ? { reason: 'out of memory' } : {}) };
      } finally {
        await remove();
      }
    })();
    const send = (signal: NodeJS.Signals) => {
      signalled = signal;
      // 409 when it has already stopped: nothing to signal.
      container.kill({ signal }).catch(() => {});
    };
    return { pid: undefined, exit, terminate: () => send('SIGTERM'), kill: () => send('SIGKILL') };
  }
}
