/** Processes, timing and temp dirs for the benchmarks. Timings are wall-clock, taken here only. */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What happens to stdout: dropped (default), kept as text, or written to a file. */
  stdout?: 'ignore' | 'capture' | { file: string };
  /** Kill the process after this long (default 30 minutes). */
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing on a non-zero one. */
  allowFailure?: boolean;
}

export interface ExecResult {
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
  code: number;
  stdout: string;
  /** Bytes the process wrote to stdout, whatever happened to them. */
  stdoutBytes: number;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ');
    super(`'${command}' exited with ${result.code}: ${tail}`);
  }
}

/** The environment every benchmarked command gets: ours, minus anything that points dstack elsewhere. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('DSTACK_') || name === 'NODE_OPTIONS') delete env[name];
  delete env.FORCE_COLOR;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Run a command (no shell) and time it. Stdout is read (counted) even when dropped, as a terminal would. */
export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const label = [command, ...args].join(' ');
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = typeof options.stdout === 'object' ? createWriteStream(options.stdout.file) : undefined;
    let stdout = '';
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (options.stdout === 'capture') stdout += chunk.toString();
      else file?.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail only: enough for an error message, bounded for chatty commands.
      stderr = (stderr + chunk.toString()).slice(-64 * 1024);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      const why = missing
        ? `${command} is not installed (scripts/install-bench-deps.sh installs the peers)`
        : e.message;
      reject(new Error(`cannot start '${label}': ${why}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      clearTimeout(timer);
      file?.end();
      const result = { seconds, code: code ?? (signal ? 128 : 1), stdout, stdoutBytes, stderr };
      if (result.code !== 0 && !options.allowFailure) reject(new CommandError(label, result));
      else resolvePromise(result);
    });
  });
}

/** `bash -c SCRIPT`, timed. */
export function sh(script: string, options: ExecOptions = {}): Promise<ExecResult> {
  return exec('bash', ['-c', script], options);
}

/** Run `measure` `reps` times (with an untimed `before` each time) and return its seconds. */
export async function repeat(
  reps: number,
  measure: (rep: number) => Promise<number>,
  before?: (rep: number) => Promise<void>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    await before?.(rep);
    samples.push(await measure(rep));
  }
  return samples;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface TempDir {
  path: string;
  /**
   * Move `target` (under `path`) out of the way by renaming it, to be removed at cleanup.
   * Repetitions set their outputs aside rather than delete them: on ext4 without a journal
   * (the bench machine's disk), each file or folder created in the next minute or more steps
   * past every inode just freed in its block group, so a deletion right before a timed step
   * slows whichever peer runs next (bench/PROFILES.md, session 8).
   */
  setAside(target: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** A fresh temp folder for one scenario; `cleanup()` removes it. */
export async function tempDir(name: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `dstack-bench-${name}-`));
  const aside = join(path, '.set-aside');
  let count = 0;
  return {
    path,
    async setAside(target) {
      await mkdir(aside, { recursive: true });
      await rename(target, join(aside, String(count++))).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    },
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}

/** Write `{ 'relative/path': content }` under `root`. */
export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
