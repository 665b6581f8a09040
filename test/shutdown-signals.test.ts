/** A long-running process's signals: the first shuts it down gracefully; only a second Ctrl-C cuts that short. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { JobsOnShutdown } from '../src/shutdown-signals.js';

/**
 * A process whose shutdown takes `ms` and prints "stopped"; it prints "ready" once it listens.
 * `jobs`: what it says becomes of the jobs (default: JOBS_STOP, a process that runs them).
 */
function start(ms: number, jobs?: JobsOnShutdown) {
  const script = [
    "const { JOBS_STOP, onShutdownSignals } = await import('./src/shutdown-signals.ts');",
    "const { createLogger } = await import('./src/logger.ts');",
    `const jobs = ${jobs ? JSON.stringify(jobs) : 'JOBS_STOP'};`,
    `onShutdownSignals(() => new Promise((r) => setTimeout(r, ${ms})).then(() => console.log('stopped')), createLogger('t'), jobs);`,
    "console.log('ready');",
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = new Promise<void>((resolve) => {
    const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 10));
    check();
  });
  return { child, exit, ready, output: () => out };
}

/** `signal` once it is ready, and again while it shuts down: its exit code. */
async function twice(p: ReturnType<typeof start>, signal: NodeJS.Signals): Promise<number | null> {
  await p.ready;
  p.child.kill(signal);
  await new Promise((r) => setTimeout(r, 200));
  p.child.kill(signal);
  return p.exit;
}

describe('shutdown signals', () => {
  it('a second SIGTERM waits for the shutdown under way (a second dstack server stop)', async () => {
    const p = start(800);
    expect(await twice(p, 'SIGTERM')).toBe(0);
    expect(p.output()).toMatch(/SIGTERM: shutting down; jobs stop as dstack stop stops them/);
    expect(p.output()).toMatch(/SIGTERM again: already shutting down, once the jobs have stopped/);
    expect(p.output()).toContain('stopped\n');
  });

  it('a second Ctrl-C exits at once, without waiting', async () => {
    const p = start(60_000);
    expect(await twice(p, 'SIGINT')).toBe(1);
    expect(p.output()).toMatch(/Ctrl-C again: exiting now, without waiting for jobs to stop/);
    expect(p.output()).not.toContain('stopped\n');
  });

  it('says what becomes of jobs that run elsewhere, and does not speak of waiting for them', async () => {
    const elsewhere = {
      note: 'jobs on runners and in Slurm keep running, and are tracked again at the next start',
      waits: false,
    };
    const p = start(800, elsewhere);
    expect(await twice(p, 'SIGTERM')).toBe(0);
    expect(p.output()).toMatch(
      /SIGTERM: shutting down; jobs on runners and in Slurm keep running, and are tracked again at the next start\n/,
    );
    expect(p.output()).toMatch(/SIGTERM again: already shutting down\n/);
    expect(p.output()).not.toMatch(/Ctrl-C again to exit|once the jobs have stopped/);
  });
});
