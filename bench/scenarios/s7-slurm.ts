/** Scenario 7: the Slurm backend against bare sbatch: submit-to-start latency, and a 300-job DAG. */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, Dstack, fanOutWorkflows } from '../peers/dstack.js';
import { describe, ensureSlurm, sbatch, startedAfter, stopSlurm, waitJobs } from '../peers/slurm.js';
import { fmtS, med, measureRow, notRun, target, type Row, type Scenario } from '../model.js';
import { exec, repeat, tempDir } from '../util.js';

/** Whether this build's server has a Slurm backend (`dstack server --backend slurm`). */
async function slurmBackendBuilt(): Promise<boolean> {
  const help = await exec(process.execPath, [BIN, 'server', '--help'], { stdout: 'capture', allowFailure: true });
  return /--backend\b/.test(help.stdout) && /slurm/i.test(help.stdout);
}

/** `dstack server --backend slurm --port 0` in the foreground; resolves with its URL and admin token. */
function startSlurmServer(dstack: Dstack): Promise<{ url: string; token: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'server', '--backend', 'slurm', '--no-local-runner', '--port', '0'], {
      env: dstack.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60s: ${err.slice(-300)}`)), 60_000);
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const url = /dstack server at (\S+)/.exec(out)?.[1];
      const token = /admin token[^:]*: (\S+)/.exec(out)?.[1];
      if (url && token) {
        clearTimeout(timer);
        resolve({ url, token, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${err.trim().slice(-300)}`)));
  });
}

/** Submits start → n-2 → final with afterok dependencies and waits for all: the floor for the DAG. */
async function sbatchDag(n: number): Promise<number> {
  const t0 = performance.now();
  const first = await sbatch('true');
  const middle: string[] = [];
  for (let i = 0; i < n - 2; i++) middle.push(await sbatchDep('true', [first]));
  const last = await sbatchDep('true', middle);
  await waitJobs([first, ...middle, last], 30 * 60_000);
  return (performance.now() - t0) / 1000;
}

async function sbatchDep(script: string, after: string[]): Promise<string> {
  const r = await exec(
    'sbatch',
    ['--parsable', '--output', '/dev/null', `--dependency=afterok:${after.join(':')}`, '--wrap', script],
    { stdout: 'capture' },
  );
  return r.stdout.trim().split(';')[0]!;
}

export const slurm: Scenario = {
  id: 7,
  title: 'Slurm: submit-to-start latency and a DAG of trivial jobs through the Slurm backend',
  async run(ctx) {
    const n = ctx.quick ? 6 : 300;
    const reps = ctx.reps ?? (ctx.quick ? 2 : 5);
    const dagReps = ctx.reps ?? (ctx.quick ? 1 : 2);
    const tmp = await tempDir('s7');
    const stamp = join(tmp.path, 'started.txt');
    const notes: string[] = [];
    let latency: Row[];
    let dag: Row[];
    const up = await ensureSlurm(!ctx.quick);
    try {
      if ('why' in up) {
        const why = up.why;
        latency = [notRun('dstack', 'dstack', why), notRun('sbatch --wrap', 'floor', why)];
        dag = [notRun('dstack', 'dstack', why), notRun('sbatch --wrap (afterok dependencies)', 'floor', why)];
      } else {
        if (up.startedHere) notes.push('Slurm was started by this run (scripts/slurm.sh start) and stopped after it.');
        else notes.push('Slurm was already running (scripts/slurm.sh status); other work on it shows in the spread.');
        const sbatchLatency = await measureRow('sbatch --wrap', 'floor', () =>
          repeat(
            reps,
            async () => {
              const t0 = Date.now() / 1000;
              await sbatch(`date +%s.%N > '${stamp}'`);
              return startedAfter(stamp, t0, 60_000);
            },
            () => rm(stamp, { force: true }),
          ),
        );
        const sbatchDagRow = await measureRow('sbatch --wrap (afterok dependencies)', 'floor', () =>
          repeat(dagReps, async (rep) => {
            ctx.log(`sbatch: ${n} jobs, repetition ${rep + 1}/${dagReps}`);
            return sbatchDag(n);
          }),
        );
        let dstackLatency: Row;
        let dstackDag: Row;
        if (!(await slurmBackendBuilt())) {
          const why = 'Slurm backend not built yet (`dstack server --help` has no --backend slurm)';
          dstackLatency = notRun('dstack run -d (Slurm backend)', 'dstack', why);
          dstackDag = notRun('dstack run final --no-cache (Slurm backend)', 'dstack', why);
        } else {
          const dstack = await Dstack.create(
            join(tmp.path, 'dstack'),
            fanOutWorkflows(n).replace(
              'workflows:\n',
              `workflows:\n  - name: lat\n    commands: ["date +%s.%N > '${stamp}'"]\n`,
            ),
          );
          let server: ChildProcess | undefined;
          try {
            const started = await startSlurmServer(dstack);
            server = started.child;
            dstack.useServer(started.url, started.token);
            dstackLatency = await measureRow('dstack run lat -d --no-cache (Slurm backend)', 'dstack', () =>
              repeat(
                reps,
                async () => {
                  const t0 = Date.now() / 1000;
                  await dstack.cli(['run', 'lat', '-d', '--no-cache']);
                  return startedAfter(stamp, t0, 120_000);
                },
                () => rm(stamp, { force: true }),
              ),
            );
            const ranOn = new Map<string, number>();
            dstackDag = await measureRow('dstack run final --no-cache (Slurm backend)', 'dstack', () =>
              repeat(dagReps, async () => {
                const seconds = (await dstack.cli(['run', 'final', '--no-cache'])).seconds;
                for (const j of await dstack.lastJobs())
                  ranOn.set(j.runner ?? '?', (ranOn.get(j.runner ?? '?') ?? 0) + 1);
                return seconds;
              }),
            );
            // The server has no local runner, so every job should have gone through Slurm: say where they ran.
            notes.push(`dstack's DAG jobs ran on runner ${[...ranOn].map(([r, c]) => `${r} (${c} jobs)`).join(', ')}.`);
          } catch (e) {
            dstackLatency = notRun('dstack (Slurm backend)', 'dstack', `failed: ${describe(e)}`);
            dstackDag = notRun('dstack (Slurm backend)', 'dstack', `failed: ${describe(e)}`);
          } finally {
            server?.kill('SIGTERM');
          }
        }
        latency = [dstackLatency, sbatchLatency];
        dag = [dstackDag, sbatchDagRow];
      }
    } finally {
      if (!('why' in up) && up.startedHere) await stopSlurm();
      await tmp.cleanup();
    }
    const [dDag, fDag, dLat, fLat] = [med(dag[0]), med(dag[1]), med(latency[0]), med(latency[1])];
    return {
      id: 7,
      title: this.title,
      size: `${n} jobs${ctx.quick ? ' (--quick; the full run has 300)' : ''}; latency ${reps} repetitions, the DAG ${dagReps}`,
      tables: [
        { caption: 'submit-to-start latency (from the command to the job writing its first timestamp)', rows: latency },
        { caption: `${n} trivial jobs (start → ${n - 2} → final)`, rows: dag },
      ],
      targets: [
        target(
          'under 100 ms added to submit-to-start latency (against sbatch)',
          [dLat, fLat],
          (d, f) => d - f < 0.1,
          (d, f) => `${fmtS(d)} vs ${fmtS(f)}: ${fmtS(d - f)} added`,
        ),
        target(
          'under 100 ms added per job (the DAG, against sbatch)',
          [dDag, fDag],
          (d, f) => (d - f) / n < 0.1,
          (d, f) => `${fmtS(d)} vs ${fmtS(f)}: ${fmtS((d - f) / n)} a job`,
        ),
      ],
      notes,
    };
  },
};
