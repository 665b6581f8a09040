/**
 * A team on one machine: a foreground `dstack server`, runner processes with their own
 * work dirs and declared resources, and a TCP proxy the test can cut, all on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../src/client/client.js';
import type { RunView } from '../../src/core/records.js';
import { BIN, Sandbox, waitUntil, type Result } from './harness.js';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function waitForLine(proc: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output: ${text}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        resolve(m);
      }
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`process exited (${code}) before ${pattern}; output: ${text}`)));
  });
}

export class TeamServer {
  proc!: ChildProcess;
  url = '';
  token = '';

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly extra: string[],
  ) {}

  static async start(extra: string[] = []): Promise<TeamServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'dstack-team-'));
    const server = new TeamServer(dataDir, await freePort(), extra);
    await server.boot();
    return server;
  }

  /** Start (or restart) the server process on the same port and data dir. */
  async boot(): Promise<void> {
    this.proc = spawn(
      BIN,
      ['server', '--port', String(this.port), '--data-dir', this.dataDir, '--no-local-runner', ...this.extra],
      { env: { ...process.env, DSTACK_HOME: this.dataDir, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const [, url] = await waitForLine(this.proc, /dstack server at (\S+)/);
    this.url = url!;
    this.token = (await readFile(join(this.dataDir, 'token'), 'utf8')).trim();
  }

  client(token = this.token): Client {
    return new Client({ url: this.url, token });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill(signal);
    await exited;
  }
}

export class TeamRunner {
  proc!: ChildProcess;
  private constructor(
    readonly name: string,
    readonly workDir: string,
    private readonly args: string[],
    /** Added to its environment (DOCKER_HOST, say). */
    private readonly env: Record<string, string> = {},
  ) {}

  static async start(
    server: TeamServer,
    name: string,
    resources: string[],
    url = server.url,
    env: Record<string, string> = {},
  ): Promise<TeamRunner> {
    const { token } = await server.client().addRunner(name);
    return TeamRunner.launch(name, `dstack-runner-${name}-`, url, token, resources, env);
  }

  /**
   * A second `runner start` with this runner's token, its own work dir (as on another
   * machine) and `resources`; it starts at once.
   */
  twin(resources: string[]): Promise<TeamRunner> {
    const token = this.args[this.args.indexOf('--token') + 1]!;
    const url = this.args[this.args.indexOf('--server') + 1]!;
    return TeamRunner.launch(this.name, `dstack-runner-${this.name}-twin-`, url, token, resources);
  }

  /** A `runner start` with `token` and a work dir of its own (`prefix…`), as on a machine of its own; it starts at once. */
  static async launch(
    name: string,
    prefix: string,
    url: string,
    token: string,
    resources: string[],
    env: Record<string, string> = {},
  ): Promise<TeamRunner> {
    const workDir = await mkdtemp(join(tmpdir(), prefix));
    const runner = new TeamRunner(
      name,
      workDir,
      ['--server', url, '--token', token, '--work-dir', workDir, ...resources],
      env,
    );
    runner.boot();
    return runner;
  }

  /** The tail of what the runner printed, for a failing test to show. */
  output = '';

  boot(): void {
    this.proc = spawn(BIN, ['runner', 'start', ...this.args], {
      env: { ...process.env, DSTACK_HOME: this.workDir, DSTACK_LOG_LEVEL: 'warn', NO_COLOR: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill(signal);
    await exited;
  }
}

/** A TCP proxy in front of the server (a port), or a Docker engine (a unix socket), whose connections the test can cut at will. */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  private refusing = false;
  port = 0;

  static async start(target: number | string): Promise<CuttableProxy> {
    return new CuttableProxy().listen(target);
  }

  private async listen(target: number | string): Promise<CuttableProxy> {
    this.server = createServer((client) => {
      if (this.refusing) return void client.destroy();
      const upstream = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Drop every open connection, mid-request or not. */
  cut(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  /** Refuse every new connection (closed at once) and drop the open ones, until `up()`: the server is unreachable. */
  down(): void {
    this.refusing = true;
    this.cut();
  }

  up(): void {
    this.refusing = false;
  }

  /** As DOCKER_HOST: `tcp://127.0.0.1:PORT`. */
  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  close(): void {
    this.cut();
    this.server.close();
  }
}

/**
 * A team server with one runner (`box`, 2 CPUs) whose jobs' containers go to the engine at
 * `dockerHost` (with no network), and a project of `workflows` used through the CLI as its user.
 */
export class DockerTeam {
  private constructor(
    readonly server: TeamServer,
    readonly runner: TeamRunner,
    readonly sb: Sandbox,
  ) {}

  static async start(dockerHost: string, workflows: string): Promise<DockerTeam> {
    const server = await TeamServer.start();
    const env = { DOCKER_HOST: dockerHost, DSTACK_DOCKER_NETWORK: 'none' };
    const runner = await TeamRunner.start(server, 'box', ['--cpu', '2'], server.url, env);
    const sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': workflows });
    await waitUntil(async () => (await server.client().runners())[0]?.status === 'ACTIVE');
    return new DockerTeam(server, runner, sb);
  }

  dstack(args: string[]): Promise<Result> {
    return this.sb.dstack(args, { env: { DSTACK_SERVER: this.server.url, DSTACK_TOKEN: this.server.token } });
  }

  async view(name: string): Promise<RunView> {
    return JSON.parse((await this.dstack(['status', name, '--json'])).stdout)[0] as RunView;
  }

  async dispose(): Promise<void> {
    await this.runner.kill('SIGTERM');
    await this.server.kill('SIGTERM');
    await this.sb.dispose();
    for (const dir of [this.runner.workDir, this.server.dataDir]) await rm(dir, { recursive: true, force: true });
  }
}
