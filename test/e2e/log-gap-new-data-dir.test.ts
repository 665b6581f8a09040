/**
 * A team server moved to a new data folder (same database and storage) while a remote runner
 * runs a job: the lines acknowledged by the old folder are gone with it, and the runner has
 * dropped them from its spool. The new server takes the runner's lines after that hole, says
 * in the log where it is, and the job ends DONE, or is aborted, rather than wedging.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { freePort } from '../services/free-port.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { BIN, waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';

const WORKFLOWS = `workflows:
  - name: loop
    commands:
      - for i in $(seq 1 24); do echo "line $i"; sleep 0.5; done
  - name: long
    commands:
      - for i in $(seq 1 600); do echo "tick $i"; sleep 0.5; done
`;

const NOTE =
  /\[dstack\] log entries 1–\d+ were kept by the server's previous data folder \(or lost with its disk\) and are not here/;

describe('a server moved to a new data folder while a remote runner runs a job', () => {
  let postgres: PostgresServer;
  let base: string;
  let database: string;
  let port: number;
  const children: ChildProcess[] = [];
  const projects: RemoteProject[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    base = await mkdtemp(join(tmpdir(), 'dstack-log-gap-'));
  }, 120_000);
  afterAll(async () => {
    for (const child of children) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const p of projects) await p.dispose();
    await postgres?.stop();
    await rm(base, { recursive: true, force: true });
  });

  /** `dstack server` on `dataDir` (the same port, database and storage each time), once it listens. */
  const serve = async (dataDir: string) => {
    const args = ['server', '--port', String(port), '--no-local-runner', '--data-dir', join(base, dataDir)];
    const child = spawn(BIN, [...args, '--storage', join(base, 'store'), '--database', database], {
      env: { ...process.env, DSTACK_HOME: join(base, 'server-home'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitUntil(
      async () => /dstack server at \S+/.test(output),
      60_000,
      async () => output,
    );
    const token = /admin token \(shown once[^)]*\): (\S+)/.exec(output)?.[1];
    const stop = async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    };
    return { token, stop, output: () => output };
  };

  const jobOf = async (project: RemoteProject, run: string) => {
    const runs = JSON.parse((await project.dstack(['status', '--json'])).stdout) as RunView[];
    return runs.find((r) => r.name === run)?.jobs[0];
  };

  it('goes on past the lines the old folder kept: the job ends DONE, and another is aborted', async () => {
    database = await postgres.createDatabase();
    port = await freePort();
    const first = await serve('d1');
    const server = { url: `http://127.0.0.1:${port}`, token: first.token! };
    const project = await RemoteProject.create(server);
    projects.push(project);
    await project.write({ '.dstack/workflows.yaml': WORKFLOWS });
    const added = await project.dstack(['runners', 'add', 'r1']);
    const runnerToken = /DSTACK_TOKEN=(\S+)/.exec(added.stdout)?.[1];
    expect(runnerToken, added.stdout + added.stderr).toBeDefined();
    const runner = spawn(
      BIN,
      ['runner', 'start', '--server', server.url, '--work-dir', join(base, 'runner'), '--cpu', '2'],
      {
        env: { ...process.env, DSTACK_HOME: join(base, 'runner-home'), DSTACK_TOKEN: runnerToken!, NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      },
    );
    children.push(runner);
    let runnerLog = '';
    runner.stderr!.on('data', (d: Buffer) => (runnerLog += d.toString()));
    await waitUntil(
      async () => runnerLog.includes('runner r1 registered'),
      30_000,
      async () => runnerLog,
    );

    const started = await project.dstack(['run', 'loop', '-d']);
    expect(started.code, started.stderr).toBe(0);
    const [run] = JSON.parse((await project.dstack(['status', '--json'])).stdout) as RunView[];
    await waitUntil(async () => (await project.dstack(['logs', run!.name])).stdout.includes('line 4\n'), 30_000);
    await first.stop();

    const moved = await serve('d2');
    const done = await waitUntil(
      async () => {
        const job = await jobOf(project, run!.name);
        return job?.status === 'DONE' && job;
      },
      60_000,
      async () => `${JSON.stringify(await jobOf(project, run!.name))}\n${runnerLog}`,
    );
    expect(done.status).toBe('DONE');
    const logs = await project.dstack(['logs', run!.name]);
    expect(logs.stderr).toMatch(NOTE);
    expect(logs.stdout).toContain('line 24\n');
    expect(logs.stdout).not.toContain('line 1\n'); // on d1 only
    expect(runnerLog).not.toContain('leaves a gap');

    // A job running through a move is aborted as any other, its log going on after the note.
    const long = await project.dstack(['run', 'long', '-d']);
    expect(long.code, long.stderr).toBe(0);
    const runs = JSON.parse((await project.dstack(['status', '--json'])).stdout) as RunView[];
    const longRun = runs.find((r) => r.name !== run!.name)!;
    const ticked = async (n: number) => (await project.dstack(['logs', longRun.name])).stdout.includes(`tick ${n}\n`);
    await waitUntil(() => ticked(4), 30_000);
    await moved.stop();
    await serve('d3');
    await waitUntil(() => ticked(12), 30_000);
    const stop = await project.dstack(['stop', '-a', longRun.name]);
    expect(stop.code, stop.stderr).toBe(0);
    const aborted = await waitUntil(
      async () => {
        const job = await jobOf(project, longRun.name);
        return job?.status === 'ABORTED' && job;
      },
      30_000,
      async () => `${JSON.stringify(await jobOf(project, longRun.name))}\n${runnerLog}`,
    );
    expect(aborted.status).toBe('ABORTED');
    expect((await project.dstack(['logs', longRun.name])).stderr).toMatch(NOTE);
    await waitUntil(
      async () => runnerLog.includes(`job ${aborted.id} finished`),
      10_000,
      async () => runnerLog,
    );
  }, 240_000);
});
