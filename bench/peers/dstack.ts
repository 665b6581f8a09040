/** dstack as the benchmarks drive it: the built CLI, in a project and DSTACK_HOME of its own. */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, exec, REPO, writeFiles, type ExecOptions, type ExecResult } from '../util.js';

export const BIN = join(REPO, 'bin', 'dstack');
export const MAIN = join(REPO, 'dist', 'cli', 'main.js');
/** How a Slurm batch job starts the one-shot runner by default (the server's defaultDstackCommand). */
export const RUNNER_EXEC = `'${process.execPath}' '${join(REPO, 'dist', 'cli', 'runner-exec-main.js')}'`;

export interface JobSummary {
  id: string;
  workflow: string;
  status: string;
  /** The runner it ran on (absent while unassigned). */
  runner?: string;
  reason?: string;
}

/** Projects whose embedded server may be running: stopped on Ctrl-C (see run.ts). */
export const live = new Set<Dstack>();

export class Dstack {
  private constructor(
    /** DSTACK_HOME: the embedded server's data, the local runner's work dirs. */
    readonly home: string,
    /** The project: `.dstack/` and nothing else the benchmark does not put there (its files are hashed). */
    readonly project: string,
    private readonly extraEnv: Record<string, string>,
  ) {}

  /** A project under `base` with this `.dstack/workflows.yaml`. */
  static async create(base: string, workflows: string, env: Record<string, string> = {}): Promise<Dstack> {
    const home = join(base, 'home');
    const project = join(base, 'project');
    await mkdir(home, { recursive: true });
    await writeFiles(project, { '.dstack/workflows.yaml': workflows });
    const dstack = new Dstack(home, project, { ...env });
    live.add(dstack);
    return dstack;
  }

  /** From now on, talk to this server (DSTACK_SERVER/DSTACK_TOKEN) instead of the embedded one. */
  useServer(url: string, token: string): void {
    Object.assign(this.extraEnv, { DSTACK_SERVER: url, DSTACK_TOKEN: token });
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return cleanEnv({ DSTACK_HOME: this.home, ...this.extraEnv, ...extra });
  }

  /** `dstack ARGS` in the project, timed. */
  cli(args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return exec(BIN, args, { cwd: this.project, env: this.env(), ...options });
  }

  /** The jobs of the last run, from `dstack status --json`. */
  async lastJobs(): Promise<JobSummary[]> {
    const { stdout } = await this.cli(['status', '--last', '1', '--json'], { stdout: 'capture' });
    const runs = JSON.parse(stdout) as { jobs: JobSummary[] }[];
    const last = runs[runs.length - 1];
    if (!last) throw new Error('dstack status --json listed no run');
    return last.jobs.map((j) => ({
      id: j.id,
      workflow: j.workflow,
      status: j.status,
      runner: j.runner,
      reason: j.reason,
    }));
  }

  async jobId(workflow: string): Promise<string> {
    const job = (await this.lastJobs()).find((j) => j.workflow === workflow);
    if (!job) throw new Error(`the last run has no job of workflow '${workflow}'`);
    return job.id;
  }

  /** The embedded server's pid, if it has written one. */
  async serverPid(): Promise<number | undefined> {
    const info = join(this.home, 'server', 'server.json');
    if (!existsSync(info)) return undefined;
    return (JSON.parse(await readFile(info, 'utf8')) as { pid: number }).pid;
  }

  /** Stop the embedded server this project started (`dstack server stop`, then by its pid if need be). */
  async stop(): Promise<void> {
    live.delete(this);
    await this.cli(['server', 'stop', '--force'], { allowFailure: true, timeoutMs: 30_000 });
    const pid = await this.serverPid();
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Fan-out DAG of `n` trivial jobs: start → j1..j(n-2) → final. */
export function fanOutWorkflows(n: number): string {
  const middle = Array.from({ length: n - 2 }, (_, i) => `j${i + 1}`);
  const lines = ['workflows:', '  - name: start', '    commands: ["echo start"]'];
  for (const name of middle)
    lines.push(`  - name: ${name}`, '    depends-on: [start]', `    commands: ["echo ${name}"]`);
  lines.push(
    '  - name: final',
    '    depends-on:',
    ...middle.map((m) => `      - ${m}`),
    '    commands: ["echo final"]',
  );
  return lines.join('\n') + '\n';
}
