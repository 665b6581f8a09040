/**
 * End-to-end harness: the real `bin/dstack` in a temporary project, with its own
 * DSTACK_HOME so each test file gets a fresh embedded server (stopped afterwards).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, lchown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunView } from '../../src/core/records.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO, 'bin', 'dstack');

if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) {
  throw new Error('dist/ is missing: end-to-end tests drive the built CLI; run `npm run build` (npm test does it)');
}

// The machine's pip settings are not the tests': they are in every virtualenv's key
// (PIP_FIND_LINKS=/opt/wheels), and the jobs install only what their test gives them.
for (const name of Object.keys(process.env)) if (name.startsWith('PIP_')) delete process.env[name];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A user the CLI (its server and runner with it) runs as, other than the test's: its groups are `gid` alone. */
export interface SandboxUser {
  uid: number;
  gid: number;
}

export class Sandbox {
  private constructor(
    readonly home: string,
    readonly root: string,
    readonly user?: SandboxUser,
  ) {}

  /** `under`: the folder to make it in (a small disk's), default the system's temp folder. */
  static async create(options: { user?: SandboxUser; under?: string } = {}): Promise<Sandbox> {
    const base = await mkdtemp(join(options.under ?? tmpdir(), 'dstack-e2e-'));
    const home = join(base, 'home');
    const root = join(base, 'project');
    await mkdir(join(root, '.dstack'), { recursive: true });
    const sandbox = new Sandbox(home, root, options.user);
    await sandbox.giveToUser();
    return sandbox;
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DSTACK_SERVER', 'DSTACK_TOKEN', 'DSTACK_PROFILE', 'FORCE_COLOR']) delete env[name];
    // Another user's HOME (the test's) is not theirs to use.
    const home = this.user ? { HOME: this.home } : {};
    return { ...env, ...home, DSTACK_HOME: this.home, NO_COLOR: '1', ...extra };
  }

  /** Write files under the project root: `{ '.dstack/workflows.yaml': '...' }`. */
  async write(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(this.root, path)), { recursive: true });
      await writeFile(join(this.root, path), content);
    }
    await this.giveToUser();
  }

  /** With a user, the sandbox is theirs: made by the test, used by their CLI. */
  private async giveToUser(): Promise<void> {
    if (!this.user) return;
    const { uid, gid } = this.user;
    const base = dirname(this.home);
    await chown(base, uid, gid);
    for (const name of await readdir(base, { recursive: true })) await lchown(join(base, name), uid, gid);
  }

  dstack(
    args: string[],
    options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<Result> {
    return new Promise((resolvePromise) => {
      execFile(
        BIN,
        args,
        {
          cwd: options.cwd ?? this.root,
          env: this.env(options.env),
          timeout: options.timeoutMs ?? 60_000,
          maxBuffer: 64 << 20,
          ...this.user,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolvePromise({ code, stdout, stderr });
        },
      );
    });
  }

  /** Start the CLI without waiting (for `run` that is stopped from another call). */
  spawn(args: string[]): ChildProcess {
    return spawn(BIN, args, {
      cwd: this.root,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...this.user,
    });
  }

  async json<T>(args: string[]): Promise<T> {
    const r = await this.dstack([...args, '--json']);
    if (r.code !== 0) throw new Error(`dstack ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Run `name` as `dstack status NAME --json` shows it. */
  async runView(name: string): Promise<RunView> {
    return (await this.json<RunView[]>(['status', name]))[0]!;
  }

  /** The last run, as `dstack status --last 1 --json` shows it. */
  async lastRun(): Promise<RunView> {
    return (await this.json<RunView[]>(['status', '--last', '1']))[0]!;
  }

  /** Run `name` once it has ended (DONE, FAILED or STOPPED), within `timeoutMs` (waitUntil's default). */
  ended(name: string, timeoutMs?: number): Promise<RunView> {
    return waitUntil(async () => {
      const view = await this.runView(name);
      return ['DONE', 'FAILED', 'STOPPED'].includes(view.status) && view;
    }, timeoutMs);
  }

  async dispose(): Promise<void> {
    await this.dstack(['server', 'stop', '--force']); // jobs a test left running are stopped first
    await rm(dirname(this.home), { recursive: true, force: true });
  }
}

/** `check` until it answers; on timeout, `explain` says what was seen instead (for the failure's message). */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  explain?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      const seen = explain ? await explain().catch((e: unknown) => `(could not tell: ${String(e)})`) : undefined;
      throw new Error(seen === undefined ? 'timed out waiting' : `timed out waiting; instead: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
