/**
 * The CLI against a server given by DSTACK_SERVER/DSTACK_TOKEN (not the embedded one): a
 * foreground `dstack server` started with the flags under test, or an in-process server
 * whose stores a test reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BIN } from './harness.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A project folder and a DSTACK_HOME of its own, and the CLI pointed at one server. */
export class RemoteProject {
  private constructor(
    readonly base: string,
    readonly root: string,
    private readonly server: { url: string; token: string },
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async create(server: { url: string; token: string }, env: Record<string, string> = {}) {
    const base = await mkdtemp(join(tmpdir(), 'dstack-remote-'));
    const root = join(base, 'project');
    await mkdir(join(root, '.dstack'), { recursive: true });
    return new RemoteProject(base, root, server, env);
  }

  async write(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(this.root, path)), { recursive: true });
      await writeFile(join(this.root, path), content);
    }
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...this.extraEnv,
      DSTACK_HOME: join(this.base, 'home'),
      DSTACK_SERVER: this.server.url,
      DSTACK_TOKEN: this.server.token,
      NO_COLOR: '1',
    };
  }

  dstack(args: string[], timeoutMs = 120_000): Promise<CliResult> {
    return this.spawn(args, timeoutMs, false) as Promise<CliResult>;
  }

  /** Run the CLI, keeping only the sha256 and length of its stdout: for byte-exact checks of big outputs. */
  dstackHashed(args: string[], timeoutMs = 300_000): Promise<CliResult & { sha256: string; length: number }> {
    return this.spawn(args, timeoutMs, true) as Promise<CliResult & { sha256: string; length: number }>;
  }

  private spawn(args: string[], timeoutMs: number, hashed: boolean) {
    return new Promise((resolve) => {
      const child = spawn(BIN, args, { cwd: this.root, env: this.env() });
      const out: Buffer[] = [];
      const hash = createHash('sha256');
      let length = 0;
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        length += c.length;
        if (hashed) hash.update(c);
        else out.push(c);
      });
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        const stdout = hashed ? '' : Buffer.concat(out).toString();
        resolve({ code: code ?? 1, stdout, stderr, ...(hashed ? { sha256: hash.digest('hex'), length } : {}) });
      });
    });
  }

  async dispose(): Promise<void> {
    await rm(this.base, { recursive: true, force: true });
  }
}

export interface ForegroundServer {
  url: string;
  token: string;
  pid: number;
  output: () => string;
  stop(): Promise<void>;
}

/** `dstack server ARGS` in the foreground on a free port, once it prints its URL and admin token. */
export async function startForegroundServer(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ForegroundServer> {
  const home = await mkdtemp(join(tmpdir(), 'dstack-fg-'));
  const child: ChildProcess = spawn(BIN, ['server', '--port', '0', '--data-dir', join(home, 'server'), ...args], {
    env: { ...process.env, ...env, DSTACK_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(home, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = /dstack server at (\S+)/.exec(output)?.[1];
    const token = /admin token \(shown once[^)]*\): (\S+)/.exec(output)?.[1];
    if (url && token) return { url, token, pid: child.pid!, output: () => output, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`dstack server ${args.join(' ')} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
