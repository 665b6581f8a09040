/**
 * `npx tsx bench/profile.ts WORKLOAD [--n N] [--times K] [--out DIR]`: where dstack spends its time
 * in one benchmark's workload. It sets up with an unprofiled server, restarts the server in the
 * foreground under `node --cpu-prof` (`dstack server --port 0`, the CLI pointed at it with
 * DSTACK_SERVER/DSTACK_TOKEN), runs the workload's CLI command K times under `--cpu-prof` too,
 * stops the server and prints the top functions and files of both profiles. A workload that
 * needs the server's memory of its setup (resave) runs the setup on the profiled server and
 * keeps only the samples of the timed commands.
 *
 * Workloads: trivial (scenario 1), dag (2), cached (3), dry-run (4, CLI only), artifacts, restore, resave (5),
 * logs (6), slurm (7: the DAG through the Slurm backend; also profiles each batch job's `dstack runner exec`). --n: jobs of the DAG (default 1000), MiB of the artifact folder, bytes of the log.
 * --files: how many files the artifact folder's MiB are split into (default: about 100 KiB each).
 * --sql: also time the server's SQL statements by text (bench/sql-trace.mjs).
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarize, top, type Entry, type Summary } from './cpuprofile.js';
import { fanOutWorkflows, MAIN } from './peers/dstack.js';
import { cleanEnv, errorMessage, exec, median, REPO, sh, tempDir, writeFiles } from './util.js';

interface Workload {
  workflows: (n: number, data: string) => string;
  /** Untimed, unprofiled: what the profiled command needs first. */
  setup: string[][];
  command: (job: () => Promise<string>) => Promise<string[]>;
  /** Untimed, after the setup: changes to the data (one file for a re-save). */
  afterSetup?: (data: string) => Promise<unknown>;
  /** More `dstack server` flags; `out` is the profiles folder. */
  serverArgs?: (out: string) => string[];
  /** No server at all (the dry run plans alone). */
  serverless?: boolean;
  /**
   * The setup runs on the profiled server itself, not restarted after it, as the benchmark
   * does (a re-save relies on the runner's in-memory hash cache); its profile is cut to the
   * timed commands.
   */
  sameServer?: boolean;
}

const WORKLOADS: Record<string, Workload> = {
  trivial: {
    workflows: () => 'workflows:\n  - name: hi\n    commands: ["echo hi"]\n',
    setup: [['run', 'hi']],
    command: async () => ['run', 'hi', '--no-cache'],
  },
  dag: {
    workflows: (n) => fanOutWorkflows(n),
    setup: [['run', 'start']],
    command: async () => ['run', 'final', '--no-cache'],
  },
  cached: {
    workflows: (n) => fanOutWorkflows(n),
    setup: [['run', 'final']],
    command: async () => ['run', 'final'],
    sameServer: true,
  },
  'dry-run': {
    workflows: (n) => fanOutWorkflows(n),
    setup: [],
    command: async () => ['run', 'final', '--dry-run'],
    serverless: true,
  },
  artifacts: {
    workflows: (_n, data) =>
      `workflows:\n  - name: save\n    commands: ["cp -al '${data}' data"]\n    artifacts: [data]\n`,
    setup: [],
    command: async () => ['run', 'save'],
  },
  resave: {
    workflows: (_n, data) =>
      `workflows:\n  - name: save\n    commands: ["cp -al '${data}' data"]\n    artifacts: [data]\n`,
    setup: [['run', 'save']],
    afterSetup: (data) => sh('head -c $(stat -c %s f00000) /dev/urandom > .f && mv .f f00000', { cwd: data }),
    command: async () => ['run', 'save', '--no-cache'],
    sameServer: true,
  },
  restore: {
    workflows: (_n, data) =>
      `workflows:\n  - name: save\n    commands: ["cp -al '${data}' data"]\n    artifacts: [data]\n`,
    setup: [['run', 'save']],
    command: async (job) => [
      'artifacts',
      await job(),
      '-o',
      join(process.env.TMPDIR ?? '/tmp', `restore-${Date.now()}`),
    ],
  },
  logs: {
    workflows: (n) => `workflows:\n  - name: logs\n    commands:\n      - 'head -c ${n} <(yes "$(printf %099d 0)")'\n`,
    setup: [['run', 'logs']],
    command: async () => ['run', 'logs', '--no-cache'],
  },
  // Through the Slurm backend (Slurm up: scripts/slurm.sh start); each batch job's `dstack runner exec` is profiled too.
  slurm: {
    workflows: (n) => fanOutWorkflows(n),
    setup: [['run', 'start']],
    command: async () => ['run', 'final', '--no-cache'],
    serverArgs: (out) => [
      '--backend',
      'slurm',
      '--no-local-runner',
      '--slurm-dstack',
      `${process.execPath} --cpu-prof --cpu-prof-dir=${join(out, 'exec')} ${MAIN}`,
    ],
  },
};

function startServer(
  env: NodeJS.ProcessEnv,
  serverArgs: string[],
  profileDir?: string,
  sqlTrace?: string,
): Promise<{ child: ChildProcess; url: string; token: string }> {
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (sqlTrace) {
    flags.push('--import', join(REPO, 'bench', 'sql-trace.mjs'));
    env = { ...env, BENCH_SQL_TRACE: sqlTrace };
  }
  const child = spawn(process.execPath, [...flags, MAIN, 'server', '--port', '0', ...serverArgs], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const url = /dstack server at (\S+)/.exec(out)?.[1];
      const token = /admin token: in (\S+)/.exec(out)?.[1] ?? /admin token[^:]*: (\S+)/.exec(out)?.[1];
      if (url && token) resolve({ child, url, token });
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${err}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function tokenOf(token: string): Promise<string> {
  // A restarted server prints where the token is, not the token.
  if (!token.startsWith('/')) return token;
  return (await sh(`cat '${token}'`, { stdout: 'capture' })).stdout.trim();
}

function print(title: string, s: Summary | undefined, n = 25): void {
  if (!s) return;
  const lines = [
    `== ${title}: ${s.wallMs.toFixed(0)} ms profiled, ${s.busyMs.toFixed(0)} ms not idle`,
    '-- top functions by self time',
    ...top(s.functions, n),
    '-- top functions by total time',
    ...top(s.functions, n, 'totalMs'),
    '-- files by self time',
    ...top(s.files, 15),
  ];
  process.stdout.write(lines.join('\n') + '\n\n');
}

/** Time the last run's jobs spent in each status, from the server's job_events (its SQLite file). */
function printPhases(home: string): void {
  const db = new Database(join(home, 'server', 'dstack.db'), { readonly: true });
  try {
    const run = db.prepare('select name from runs order by submitted_at desc limit 1').get() as
      { name: string } | undefined;
    if (!run) return;
    const events = db
      .prepare(
        `select e.job_id as job, e.at as at, e.to_status as status from job_events e
         join jobs j on j.id = e.job_id where j.run_name = ? order by e.job_id, e.id`,
      )
      .all(run.name) as { job: string; at: number; status: string }[];
    const spent = new Map<string, number[]>();
    events.forEach((e, i) => {
      const next = events[i + 1];
      if (!next || next.job !== e.job) return;
      spent.set(e.status, [...(spent.get(e.status) ?? []), next.at - e.at]);
    });
    const span = Math.max(...events.map((e) => e.at)) - Math.min(...events.map((e) => e.at));
    const lines = [`== run ${run.name}: ${events.length} job events over ${span} ms; time in each status per job:`];
    for (const [status, ms] of spent) {
      const total = ms.reduce((a, b) => a + b, 0);
      lines.push(
        `${status.padEnd(12)} median ${median(ms).toFixed(0).padStart(6)} ms  max ${Math.max(...ms)
          .toFixed(0)
          .padStart(6)} ms  sum ${total.toFixed(0).padStart(8)} ms  (${ms.length} jobs)`,
      );
    }
    process.stdout.write(lines.join('\n') + '\n\n');
  } finally {
    db.close();
  }
}

/** The server's SQL statements by time spent (bench/sql-trace.mjs). */
async function printSql(file: string): Promise<void> {
  const list = JSON.parse(await readFile(file, 'utf8')) as {
    sql: string;
    calls: number;
    prepareMs: number;
    runMs: number;
    rows: number;
  }[];
  const lines = ['== server SQL (better-sqlite3): prepare + run ms, calls, rows returned'];
  for (const s of list.slice(0, 15)) {
    const ms = `${s.prepareMs.toFixed(0)} + ${s.runMs.toFixed(0)} ms`.padStart(16);
    lines.push(`${ms} ${String(s.calls).padStart(6)} calls ${String(s.rows).padStart(8)} rows  ${s.sql.slice(0, 160)}`);
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

/** Microseconds on V8's profile clock: CLOCK_MONOTONIC on Linux, the same as hrtime in any process. */
const profileClock = () => Number(process.hrtime.bigint() / 1000n);

/** Keep only the samples of `dir`'s profiles taken between `from` and `to` (profileClock). */
async function cutProfiles(dir: string, from: number, to: number): Promise<void> {
  for (const f of (await readdir(dir).catch(() => [] as string[])).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as {
      startTime: number;
      samples: number[];
      timeDeltas: number[];
    };
    const samples: number[] = [];
    const deltas: number[] = [];
    let t = p.startTime;
    let last = from;
    p.samples.forEach((id, i) => {
      t += p.timeDeltas[i] ?? 0;
      if (t < from || t > to) return;
      samples.push(id);
      deltas.push(t - last);
      last = t;
    });
    await writeFile(join(dir, f), JSON.stringify({ ...p, startTime: from, endTime: to, samples, timeDeltas: deltas }));
  }
}

/** All profiles in `dir`, merged. */
async function merged(dir: string): Promise<Summary | undefined> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  const all = await Promise.all(files.map((f) => summarize(join(dir, f))));
  const add = (lists: Entry[][]) => {
    const m = new Map<string, Entry>();
    for (const e of lists.flat()) {
      const x = m.get(e.name) ?? { name: e.name, selfMs: 0, totalMs: 0 };
      x.selfMs += e.selfMs;
      x.totalMs += e.totalMs;
      m.set(e.name, x);
    }
    return [...m.values()];
  };
  return {
    wallMs: all.reduce((a, s) => a + s.wallMs, 0),
    busyMs: all.reduce((a, s) => a + s.busyMs, 0),
    functions: add(all.map((s) => s.functions)),
    files: add(all.map((s) => s.files)),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const name = argv[0] ?? '';
  const workload = WORKLOADS[name];
  const opt = (flag: string) => argv[argv.indexOf(flag) + 1];
  if (!workload)
    throw new Error(`usage: npx tsx bench/profile.ts ${Object.keys(WORKLOADS).join('|')} [--n N] [--times K]`);
  const n = Number(argv.includes('--n') ? opt('--n') : name === 'logs' ? 100_000_000 : 1000);
  const times = Number(argv.includes('--times') ? opt('--times') : 1);
  const tmp = await tempDir(`profile-${name}`);
  const out = argv.includes('--out') ? opt('--out')! : join(tmp.path, 'profiles');
  const home = join(tmp.path, 'home');
  const project = join(tmp.path, 'project');
  const data = join(tmp.path, 'data');
  if (['artifacts', 'resave', 'restore'].includes(name)) {
    await mkdir(data, { recursive: true });
    // --n is MiB here, in files of about 100 KiB (1 GiB: 10,240 files) unless --files says how many.
    const files = argv.includes('--files') ? Number(opt('--files')) : n * 10;
    await sh(`head -c ${n}M /dev/urandom > ../blob && split -n ${files} -a 5 -d ../blob f && rm ../blob`, {
      cwd: data,
    });
  }
  await writeFiles(project, { '.dstack/workflows.yaml': workload.workflows(n, data) });
  const env = cleanEnv({ DSTACK_HOME: home });
  let remote: Record<string, string> = {};
  let server: ChildProcess | undefined;
  let timedFrom = 0;
  let timedTo = 0;
  try {
    if (!workload.serverless) {
      const serverArgs = workload.serverArgs?.(out) ?? [];
      const profiled = () =>
        startServer(env, serverArgs, join(out, 'server'), argv.includes('--sql') ? join(out, 'sql.json') : undefined);
      const first = workload.sameServer ? await profiled() : await startServer(env, serverArgs);
      const token = await tokenOf(first.token);
      for (const args of workload.setup) {
        await exec(process.execPath, [MAIN, ...args], {
          cwd: project,
          env: cleanEnv({ DSTACK_HOME: home, DSTACK_SERVER: first.url, DSTACK_TOKEN: token }),
        });
      }
      await workload.afterSetup?.(data);
      if (!workload.sameServer) await stopServer(first.child);
      const again = workload.sameServer ? first : await profiled();
      server = again.child;
      remote = { DSTACK_SERVER: again.url, DSTACK_TOKEN: await tokenOf(again.token) };
    }
    const cliEnv = cleanEnv({ DSTACK_HOME: home, ...remote });
    const jobOf = async () => {
      const r = await exec(process.execPath, [MAIN, 'status', '--last', '1', '--json'], {
        cwd: project,
        env: cliEnv,
        stdout: 'capture',
      });
      return (JSON.parse(r.stdout) as { jobs: { id: string }[] }[]).at(-1)!.jobs[0]!.id;
    };
    timedFrom = profileClock();
    for (let i = 0; i < times; i++) {
      const args = await workload.command(jobOf);
      const prof = ['--cpu-prof', `--cpu-prof-dir=${join(out, 'cli')}`];
      const r = await exec(process.execPath, [...prof, MAIN, ...args], { cwd: project, env: cliEnv });
      process.stdout.write(`dstack ${args.join(' ')}: ${r.seconds.toFixed(3)} s\n`);
    }
    timedTo = profileClock();
    if (!workload.serverless) printPhases(home);
  } finally {
    if (server) await stopServer(server);
    await sh(`rm -rf '${home}' '${project}' '${data}'`);
  }
  if (workload.sameServer) await cutProfiles(join(out, 'server'), timedFrom, timedTo);
  const life = workload.sameServer ? 'during the timed commands only' : "the restarted server's whole life";
  print(`server (${name}, ${life})`, await merged(join(out, 'server')));
  print(`CLI (${name}, ${times} run${times > 1 ? 's' : ''} merged)`, await merged(join(out, 'cli')));
  print(`dstack runner exec in the Slurm batch jobs (${name}, all merged)`, await merged(join(out, 'exec')));
  if (argv.includes('--sql')) await printSql(join(out, 'sql.json'));
  process.stdout.write(`profiles in ${out} (open them in Chrome DevTools or speedscope)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${errorMessage(e)}\n`);
  process.exit(1);
});
