/**
 * Where a Slurm-backend job's submit-to-start time goes (scenario 7): runs `lat` a few times
 * through `dstack server --backend slurm` (Slurm up: scripts/slurm.sh start) and prints, per
 * run, the CLI's time, then each job event and the job's first command relative to the CLI's
 * start; with --n, one fan-out DAG of n jobs and each job's events. --log prints the server's log.
 *   npx tsx bench/slurm-timeline.ts [--reps 3] [--n 0] [--log]
 * S7_SERVER_ARGS='--config FILE' are more server flags; S7_SLURM_DSTACK=CMD is given to the server as --slurm-dstack (a wrapper that stamps the batch
 * job's start, or `node --cpu-prof … dist/cli/runner-exec-main.js`); --stamp-batch gives it a wrapper that stamps
 * the batch script's start (printed as `batch +ms`), then execs the default runner.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, Dstack, fanOutWorkflows, RUNNER_EXEC } from './peers/dstack.js';
import { stamping, startedAfter } from './peers/slurm.js';
import { tempDir } from './util.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const reps = arg('reps', 3);
const n = arg('n', 0);
const tmp = await tempDir('s7-timeline');
const stamp = join(tmp.path, 'started.txt');
const batchStamp = join(tmp.path, 'batch.txt');
const batchWrapperFile = join(tmp.path, 'batch-start.sh');
const slurmDstack = process.argv.includes('--stamp-batch')
  ? await stamping(batchWrapperFile, batchStamp, RUNNER_EXEC)
  : process.env.S7_SLURM_DSTACK;
const dstack = await Dstack.create(
  join(tmp.path, 'dstack'),
  fanOutWorkflows(Math.max(n, 3)).replace(
    'workflows:\n',
    `workflows:\n  - name: lat\n    commands: ["date +%s.%N > '${stamp}'"]\n`,
  ),
);
const child = spawn(
  BIN,
  [
    'server',
    '--backend',
    'slurm',
    '--no-local-runner',
    '--port',
    '0',
    ...(slurmDstack ? ['--slurm-dstack', slurmDstack] : []),
    ...(process.env.S7_SERVER_ARGS ? process.env.S7_SERVER_ARGS.split(' ') : []),
  ],
  {
    env: dstack.env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let err = '';
child.stderr.on('data', (c: Buffer) => (err += c.toString()));
const { url, token } = await new Promise<{ url: string; token: string }>((resolve) => {
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const u = /dstack server at (\S+)/.exec(out)?.[1];
    const t = /admin token[^:]*: (\S+)/.exec(out)?.[1];
    if (u && t) resolve({ url: u, token: t });
  });
});
dstack.useServer(url, token);
const dbFile = findDb(dstack.home);
const db = new Database(dbFile, { readonly: true });
try {
  for (let i = 0; i < reps; i++) {
    await rm(stamp, { force: true });
    await rm(batchStamp, { force: true });
    const t0 = Date.now();
    await dstack.cli(['run', 'lat', '-d', '--no-cache']);
    const cliMs = Date.now() - t0;
    const started = (await startedAfter(stamp, t0 / 1000, 60_000)) * 1000;
    await new Promise((r) => setTimeout(r, 1500));
    const job = db.prepare("select id from jobs where workflow = 'lat' order by submitted_at desc limit 1").get() as {
      id: string;
    };
    const events = db.prepare('select at, to_status from job_events where job_id = ? order by id').all(job.id) as {
      at: number;
      to_status: string;
    }[];
    const line = events.map((e) => `${e.to_status} +${e.at - t0}`).join('  ');
    const batch =
      slurmDstack === batchWrapperFile
        ? ` batch +${((await startedAfter(batchStamp, t0 / 1000, 1000)) * 1000).toFixed(0)}`
        : '';
    console.log(`rep ${i + 1}: cli ${cliMs} ms; ${line};${batch} first command +${started.toFixed(0)} ms`);
  }
  if (n > 0) {
    const t0 = Date.now();
    await dstack.cli(['run', 'final', '--no-cache']);
    console.log(`DAG of ${n}: ${Date.now() - t0} ms`);
    const rows = db
      .prepare(
        `select e.job_id, e.at, e.to_status from job_events e join jobs j on j.id = e.job_id
         where j.run_name = (select run_name from jobs where workflow = 'final' order by submitted_at desc limit 1) order by e.id`,
      )
      .all() as { job_id: string; at: number; to_status: string }[];
    const per = new Map<string, Map<string, number>>();
    for (const r of rows) (per.get(r.job_id) ?? per.set(r.job_id, new Map()).get(r.job_id)!).set(r.to_status, r.at);
    const span = (a: string, b: string) =>
      [...per.values()].map((m) => (m.get(b) ?? NaN) - (m.get(a) ?? NaN)).filter((x) => !Number.isNaN(x));
    const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const start = Math.min(...[...per.values()].map((m) => m.get('SUBMITTED') ?? Infinity));
    for (const [id, m] of per)
      console.log(`  ${id} ${[...m].map(([st, at]) => `${st.slice(0, 4)} +${at - start}`).join(' ')}`);
    for (const [a, b] of [
      ['SUBMITTED', 'DOWNLOADING'],
      ['DOWNLOADING', 'RUNNING'],
      ['RUNNING', 'UPLOADING'],
      ['UPLOADING', 'DONE'],
    ] as const)
      console.log(`  ${a} → ${b}: median ${med(span(a, b))} ms`);
  }
} finally {
  child.kill('SIGTERM');
  db.close();
  if (process.argv.includes('--log')) console.log(err);
  await tmp.cleanup();
}

function findDb(home: string): string {
  const walk = (dir: string): string | undefined => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) {
        const f = walk(p);
        if (f) return f;
      } else if (/\.(db|sqlite)$/.test(e)) return p;
    }
    return undefined;
  };
  const f = walk(home);
  if (!f) throw new Error(`no database under ${home}`);
  return f;
}
