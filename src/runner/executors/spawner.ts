/**
 * Starts job processes from a small helper process instead of this one. `spawn` is
 * synchronous: it forks (page tables grow with the heap) and waits for `exec`, several
 * milliseconds a job on the thread that also serves the API. The helper does that, and the
 * job's stdout and stderr are unix sockets connected to this process: output goes from the
 * job to us as it would through pipes, never through the helper. A helper that dies fails
 * only the jobs it was starting or watching (their exit codes are lost) and is started again
 * for the next job. A process that dies (a runner killed, one that exits without stopping its
 * jobs) takes its jobs with it: the helper ends them as a stop does, and the docker
 * executor's containers it was told of (`guardContainer`), then exits. It leads a session of
 * its own, so a kill of the runner's whole process group does not take it along.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  readOutput,
  type ContainerGuard,
  type EngineAddress,
  type ExitResult,
  type OnOutput,
  type WhenDrained,
} from './executor.js';
import { helperMain, type GuardMessage, type Reply, type SpawnMessage } from './spawner-helper.js';
import { runnerEnvironment } from '../environment.js';
import { signalGroup } from '../process-group.js';

/** What the helper is asked to start: `file args`, with `scriptFile` written first when given. */
export interface SpawnRequest {
  file: string;
  /** The program's name to itself (`$0`), when not `file`. */
  argv0?: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** A file the job reads its commands from: written before it starts, removed once it exits. */
  scriptFile?: { path: string; content: string };
  onOutput: OnOutput;
  whenDrained?: WhenDrained;
}

export interface Spawned {
  /** The job's pid, also its process group's id (it leads a new session). */
  pid: number;
  /** Resolves once the job has exited and both streams are closed. */
  exit: Promise<ExitResult>;
}

interface Job {
  request: SpawnRequest;
  pid?: number;
  started: { resolve: (s: Spawned) => void; reject: (e: Error) => void };
  resolveExit?: (r: ExitResult) => void;
  /** Streams not yet closed: stdout and stderr. */
  open: number;
  /** Streams whose socket has arrived; a second one for the same stream is refused. */
  attached: Set<string>;
  exited?: ExitResult;
  leftovers?: NodeJS.Timeout;
}

/** How long a connection to the output socket may take to name its job. */
const HEAD_TIMEOUT_MS = 10_000;

/** After the job's main process has exited, how long what it left in the background may hold its output open. */
export const LEFTOVER_GRACE_MS = 2000;

/** How long a job's processes get between SIGTERM and SIGKILL once the spawner's process is gone, by default. */
const ORPHAN_GRACE_MS = 5000;

export interface SpawnerOptions {
  /**
   * Once this process is gone (killed, or exited with jobs running), the helper sends the
   * jobs SIGTERM and, this many ms later, SIGKILL: a runner's stop grace. Default 5000.
   */
  stopGraceMs?: number;
  /** How long a connection to the output socket may take to name its job, ms. Default 10000. */
  headTimeoutMs?: number;
}

/** After a helper died, how long before a new one is started for what it guarded. */
const RESTART_MS = 1000;

export class Spawner implements ContainerGuard {
  private helper: ChildProcess | undefined;
  private server: Server | undefined;
  private socketPath = '';
  private readonly jobs = new Map<string, Job>();
  /** What a helper is to end should this process die besides its own jobs (containers, groups started here), by key; told again to a new helper. */
  private readonly guarded = new Map<string, GuardMessage>();

  private closed = false;
  private readonly headTimeoutMs: number;
  private readonly stopGraceMs: number;

  constructor(options: SpawnerOptions = {}) {
    this.headTimeoutMs = options.headTimeoutMs ?? HEAD_TIMEOUT_MS;
    this.stopGraceMs = options.stopGraceMs ?? ORPHAN_GRACE_MS;
  }

  /** The address of the socket the jobs' output arrives on (abstract: any local process can connect). */
  get outputSocket(): string {
    return this.socketPath;
  }

  async spawn(request: SpawnRequest): Promise<Spawned> {
    const helper = await this.ensureHelper();
    // Unguessable: the socket is open to any local process, and the first line is all it checks.
    const id = randomBytes(16).toString('hex');
    return new Promise<Spawned>((resolve, reject) => {
      this.jobs.set(id, { request, started: { resolve, reject }, open: 2, attached: new Set() });
      this.refHelper();
      const { onOutput: _, whenDrained: __, ...rest } = request;
      const message: SpawnMessage = { id, ...rest };
      helper.send(message);
    });
  }

  guardContainer(engine: EngineAddress, container: string): Promise<() => void> {
    return this.guard(`container ${container}`, { container, engine }, { container });
  }

  /**
   * Have the helper end process group `group` (a job this process started itself) as a stop
   * does should this process die; resolves with the function that stops that.
   */
  guardGroup(group: number): Promise<() => void> {
    return this.guard(`group ${group}`, { group }, { group, release: true });
  }

  private async guard(key: string, message: GuardMessage, release: GuardMessage): Promise<() => void> {
    this.guarded.set(key, message);
    const helper = await this.ensureHelper(); // a new one is told of all that is guarded
    // Resolved once written to the helper, so that what it guards starts guarded. A send that
    // fails is a helper that died: the next one is told.
    if (helper.connected) await new Promise<void>((resolve) => helper.send(message, () => resolve()));
    return () => {
      if (!this.guarded.delete(key)) return;
      if (this.helper?.connected) this.helper.send(release);
    };
  }

  /** The helper process's pid while it runs. */
  get helperPid(): number | undefined {
    return this.helper?.pid;
  }

  /** Ends the helper by SIGKILL (jobs it started carry on in their own groups: only losing this process ends them). */
  close(): void {
    this.closed = true;
    this.helper?.kill('SIGKILL'); // it ignores SIGTERM
    this.server?.close();
  }

  private async ensureHelper(): Promise<ChildProcess> {
    if (this.helper) return this.helper;
    if (!this.server) {
      // An abstract socket (Linux): no file to clean up, no path length limit to hit.
      this.socketPath = `\0dstack-spawner-${process.pid}-${randomBytes(6).toString('hex')}`;
      const server = createServer((socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => resolve());
      });
      server.unref();
      this.server = server;
    }
    // `__name`: under tsx (esbuild's keepNames), as when dstack runs from its sources, the
    // function's text calls that helper of its module to name its inner functions.
    const modules = `require('node:child_process'), require('node:net'), require('node:fs'), () => require('node:http')`;
    const script = `var __name = (f) => f; (${helperMain.toString()})(${modules}, ${JSON.stringify(this.socketPath)}, ${this.stopGraceMs})`;
    // Not dstack's settings and tokens: a job (same user) can read its parent's environment in /proc.
    const env = runnerEnvironment();
    delete env.NODE_OPTIONS; // a profiler or loader meant for the server
    const helper = spawnProcess(process.execPath, ['-e', script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
      // Its own session: a kill of the runner's whole process group (a `kill -9 -PGID`, a
      // supervisor's) leaves it to end the jobs, as the runner's death alone does.
      detached: true,
    });
    helper.on('message', (m: Reply) => this.onReply(m));
    // A send to a helper that just died: its 'exit' follows and fails what was in flight.
    helper.on('error', (e) => {
      if (helper.pid === undefined) this.onHelperExit(helper, null, null, e.message); // it never started
    });
    helper.once('exit', (code, signal) => this.onHelperExit(helper, code, signal));
    this.helper = helper;
    this.refHelper();
    for (const message of this.guarded.values()) helper.send(message);
    return helper;
  }

  /** The helper keeps this process alive only while it has jobs. */
  private refHelper(): void {
    const helper = this.helper;
    if (!helper) return;
    const channel = helper.channel as { ref(): void; unref(): void } | undefined;
    if (this.jobs.size > 0) {
      helper.ref();
      channel?.ref();
    } else {
      helper.unref();
      channel?.unref();
    }
  }

  private onReply(m: Reply): void {
    const job = this.jobs.get(m.id);
    if (!job) return;
    if ('error' in m) {
      this.jobs.delete(m.id);
      this.refHelper();
      if (job.pid === undefined) job.started.reject(new Error(`starting the job failed: ${m.error}`));
      else this.exited(m.id, job, { code: null, signal: null, reason: m.error });
    } else if ('pid' in m) {
      job.pid = m.pid;
      job.started.resolve({ pid: m.pid, exit: new Promise((resolve) => (job.resolveExit = resolve)) });
    } else this.exited(m.id, job, { code: m.code, signal: m.signal });
  }

  private exited(id: string, job: Job, result: ExitResult): void {
    job.exited = result;
    // Something the job left in the background may hold its output open: end it after a grace.
    job.leftovers = setTimeout(() => this.signal(job, 'SIGKILL'), LEFTOVER_GRACE_MS);
    job.leftovers.unref();
    this.finish(id, job);
  }

  /** Once the job has exited and its output is drained: end what is left of its group, resolve. */
  private finish(id: string, job: Job): void {
    if (!job.exited || job.open > 0) return;
    clearTimeout(job.leftovers);
    this.signal(job, 'SIGKILL');
    this.jobs.delete(id);
    this.refHelper();
    job.resolveExit?.(job.exited);
  }

  signal(job: { pid?: number }, signal: NodeJS.Signals): void {
    if (job.pid !== undefined) signalGroup(job.pid, signal);
  }

  /** A job's stdout or stderr: its first line names the job and stream, the rest is output. */
  private accept(socket: Socket): void {
    let head = Buffer.alloc(0);
    let job: Job | undefined;
    let id = '';
    // The helper writes the line at once; a connection that does not is not the helper's.
    const unnamed = setTimeout(() => socket.destroy(), this.headTimeoutMs);
    unnamed.unref();
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) return head.length > 100 ? void socket.destroy() : undefined;
      clearTimeout(unnamed);
      socket.off('data', onHead);
      const [key = '', fd] = head.subarray(0, nl).toString().split(' ');
      const name = fd === '1' ? 'stdout' : fd === '2' ? 'stderr' : undefined;
      const found = this.jobs.get(key);
      // Unknown (its start failed) or a stream that already has its socket: not the job's.
      if (!found || !name || found.attached.has(name)) return void socket.destroy();
      found.attached.add(name);
      job = found;
      id = key;
      const take = readOutput(socket, name, found.request);
      if (head.length > nl + 1) take(head.subarray(nl + 1));
    };
    socket.on('data', onHead);
    socket.on('error', () => {}); // a reset is a close; 'close' follows
    socket.once('close', () => {
      if (!job) return;
      job.open--;
      this.finish(id, job);
    });
  }

  /** The helper died: fail what it was starting or watching; a new one starts for the next job, or for what it guarded. */
  private onHelperExit(helper: ChildProcess, code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (this.helper === helper) {
      this.helper = undefined;
      // What it guarded runs on, unguarded until a new helper is told of it.
      if (this.guarded.size > 0 && !this.closed)
        setTimeout(() => void this.ensureHelper().catch(() => {}), RESTART_MS).unref();
    }
    const why = `the job spawner process ended (${error ?? signal ?? `exit code ${code}`})`;
    for (const [id, job] of this.jobs) {
      if (job.pid === undefined) {
        this.jobs.delete(id);
        job.started.reject(new Error(why));
      } else if (!job.exited) {
        // Its exit code can no longer be known: end the job rather than leave it unwatched.
        this.signal(job, 'SIGKILL');
        this.exited(id, job, { code: null, signal: null, reason: `${why}; the job was killed` });
      }
    }
  }
}
