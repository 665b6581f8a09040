/**
 * `dstack runner start` processes of a test, each in a process group of its own (so that a
 * test can kill a runner with its spawner helper, or alone), all killed after each test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { issueToken } from '../../src/server/auth.js';
import type { TestServer } from '../services/server.js';
import { BIN, waitUntil } from './harness.js';

export interface RunnerProcess {
  child: ChildProcess;
  stderr: () => string;
}

export class RunnerProcesses {
  private readonly started: ChildProcess[] = [];

  constructor(
    private readonly t: TestServer,
    private readonly options: { home: string; cpu: number; env?: Record<string, string> },
  ) {}

  /** Start runner `name` on `workDir` and wait until it has registered. */
  async start(name: string, workDir: string): Promise<RunnerProcess> {
    const { server } = this.t;
    const token = await issueToken(server.engine.store, 'runner', name, false);
    const args = ['runner', 'start', '--server', server.url, '--token', token, '--work-dir', workDir];
    const child = spawn(BIN, [...args, '--cpu', String(this.options.cpu)], {
      env: { ...process.env, DSTACK_HOME: this.options.home, ...this.options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.started.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitUntil(
      async () => stderr.includes(`runner ${name} registered`),
      30_000,
      async () => stderr,
    );
    return { child, stderr: () => stderr };
  }

  /** Kill every runner started, with its process group. */
  killAll(): void {
    for (const runner of this.started.splice(0)) {
      try {
        process.kill(-runner.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
