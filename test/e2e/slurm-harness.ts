/**
 * A foreground `dstack server` for the Slurm tests: with the Slurm backend, or with the local
 * runner instead, restartable on the same data dir (so the cache can be shown across backends).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobRecord } from '../../src/core/records.js';
import { jobProcesses } from '../services/processes.js';
import { slurm } from '../services/slurm.js';
import { BIN, REPO } from './harness.js';
import { freePort } from './team-harness.js';

export type Mode = 'slurm' | 'local';

export class DstackServer {
  proc: ChildProcess | undefined;
  url = '';
  token = '';
  output = '';

  private constructor(
    /** Its data folder: a test may move it (`--data-dir`) between starts. */
    public dataDir: string,
    readonly home: string,
    readonly port: number,
    private readonly extraEnv: Record<string, string>,
  ) {}

  /** `env`: more of the server's environment (which its batch jobs inherit). */
  static async create(env: Record<string, string> = {}): Promise<DstackServer> {
    const base = await mkdtemp(join(tmpdir(), 'dstack-slurm-e2e-'));
    return new DstackServer(join(base, 'data'), join(base, 'home'), await freePort(), env);
  }

  /** Start (or restart) on the same data dir and port, with Slurm or with the local runner. */
  async start(mode: Mode, extra: string[] = []): Promise<void> {
    await this.stop();
    const args = ['server', '--port', String(this.port), '--data-dir', this.dataDir, ...extra];
    if (mode === 'slurm') args.push('--no-local-runner', '--backend', 'slurm', '--slurm-poll', '0.5');
    this.output = '';
    const proc = spawn(BIN, args, {
      env: { ...process.env, ...this.extraEnv, DSTACK_HOME: this.home, DSTACK_STOP_GRACE: '5', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stdout.on('data', (c: Buffer) => (this.output += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (this.output += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${this.output}`)), 30_000);
      const check = () => {
        const m = /dstack server at (\S+)/.exec(this.output);
        if (!m) return;
        clearTimeout(timer);
        proc.stdout.off('data', check);
        this.url = m[1]!;
        resolve();
      };
      proc.stdout.on('data', check);
      proc.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${this.output}`)));
    });
    this.token = (await readFile(join(this.dataDir, 'token'), 'utf8')).trim();
  }

  /** What the CLI needs to use this server. */
  env(): Record<string, string> {
    return { DSTACK_SERVER: this.url, DSTACK_TOKEN: this.token };
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
}

/** Copy examples/pipeline into `root` (its .dstack and scripts). */
export async function copyPipeline(root: string): Promise<void> {
  await cp(join(REPO, 'examples', 'pipeline'), root, { recursive: true });
}

/** After a test: the Slurm jobs that ran `jobs` cancelled, and whatever of theirs still runs here killed. */
export async function endSlurmJobs(jobs: readonly Pick<JobRecord, 'id' | 'workflow'>[]): Promise<void> {
  for (const job of jobs) {
    await slurm('scancel', ['-n', `dstack-${job.workflow}-${job.id}`]).catch(() => '');
    for (const pid of jobProcesses(job.id)) process.kill(pid, 'SIGKILL');
  }
}
