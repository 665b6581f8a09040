/**
 * `npm run bench [-- --quick] [--only 1,3] [--reps N]`: every scenario for dstack and its peers,
 * then bench/RESULTS.md and bench/results/<mode>.json. A missed target is reported, never fatal.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Context, Scenario, ScenarioResult } from './model.js';
import { live, MAIN } from './peers/dstack.js';
import { commit, machine, versions, writeReport, type Report } from './report.js';
import { trivialJob } from './scenarios/s1-trivial-job.js';
import { dagRun } from './scenarios/s2-dag.js';
import { dagCached } from './scenarios/s3-dag-cached.js';
import { planning } from './scenarios/s4-planning.js';
import { artifacts } from './scenarios/s5-artifacts.js';
import { logs } from './scenarios/s6-logs.js';
import { slurm } from './scenarios/s7-slurm.js';
import { errorMessage, exec, REPO } from './util.js';

const SCENARIOS: Scenario[] = [trivialJob, dagRun, dagCached, planning, artifacts, logs, slurm];

const USAGE = `usage: npm run bench -- [--quick] [--only 1,2,...] [--reps N]
  --quick   smaller sizes and fewer repetitions (under two minutes)
  --only    run only these scenarios; the report keeps the others from the last run of the same mode
  --reps    repetitions per measurement, instead of each scenario's own`;

function parseArgs(argv: string[]): { quick: boolean; only?: Set<number>; reps?: number } {
  const args: { quick: boolean; only?: Set<number>; reps?: number } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--only') args.only = new Set((argv[++i] ?? '').split(',').map(Number));
    else if (arg === '--reps') args.reps = Number(argv[++i]);
    else {
      process.stderr.write(`${arg === '--help' || arg === '-h' ? '' : `unknown argument '${arg}'\n`}${USAGE}\n`);
      process.exit(arg === '--help' || arg === '-h' ? 0 : 2);
    }
  }
  if (args.reps !== undefined && !(Number.isInteger(args.reps) && args.reps > 0)) {
    process.stderr.write(`--reps needs a positive integer\n${USAGE}\n`);
    process.exit(2);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function prepare(): Promise<void> {
  if (!existsSync(MAIN)) {
    log('dist/ is missing: building it (npm run build)');
    await exec('npm', ['run', 'build'], { cwd: REPO });
  }
  // Installs make, snakemake, hyperfine and time from Debian when missing (as root), or says what to install.
  const deps = await exec('bash', [join(REPO, 'scripts', 'install-bench-deps.sh')], { allowFailure: true });
  if (deps.code !== 0) log(`${deps.stderr.trim()}\n[bench] rows of the missing peers will say "not run"`);
}

/** With --only: the scenarios just run, and the others from the last report of the same mode. */
async function withEarlier(mode: string, results: ScenarioResult[]): Promise<ScenarioResult[]> {
  const file = join(REPO, 'bench', 'results', `${mode}.json`);
  if (!existsSync(file)) return results;
  const earlier = JSON.parse(await readFile(file, 'utf8')) as Report;
  const kept = earlier.scenarios.filter((s) => !results.some((r) => r.id === s.id));
  for (const s of kept) {
    const note = `Kept from the run started at ${earlier.startedAt} (\`${earlier.command}\`); a later --only run re-ran others.`;
    if (!s.notes.some((n) => n.startsWith('Kept from'))) s.notes.push(note);
  }
  if (kept.length > 0) log(`kept scenarios ${kept.map((s) => s.id).join(', ')} from ${file}`);
  return [...kept, ...results].sort((a, b) => a.id - b.id);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.once('SIGINT', () => {
    log('interrupted: stopping the dstack servers this run started');
    void Promise.all([...live].map((d) => d.stop())).finally(() => process.exit(130));
  });
  const started = Date.now();
  const host = await machine(); // before the scenarios: its load average is the machine's own
  await prepare();
  const ctx: Context = { quick: args.quick, slots: availableParallelism(), log: (l) => log(`  ${l}`) };
  if (args.reps !== undefined) ctx.reps = args.reps;
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    if (args.only && !args.only.has(scenario.id)) continue;
    log(`scenario ${scenario.id}: ${scenario.title}`);
    const t0 = Date.now();
    const ranAt = new Date(t0).toISOString();
    const load0 = loadavg()[0]!;
    let result: ScenarioResult;
    try {
      result = await scenario.run(ctx);
    } catch (e) {
      // A scenario that breaks is reported as such; the others still run.
      result = {
        id: scenario.id,
        title: scenario.title,
        size: '—',
        tables: [],
        targets: [],
        notes: [`failed: ${errorMessage(e)}`],
      };
    }
    result.ranAt = ranAt;
    result.load = [load0, loadavg()[0]!];
    result.seconds = (Date.now() - t0) / 1000;
    for (const t of result.targets) log(`  ${t.verdict}: ${t.text} (${t.detail})`);
    results.push(result);
  }
  const report: Report = {
    mode: args.quick ? 'quick' : 'full',
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    commit: await commit(),
    machine: host,
    peers: await versions({
      make: 'make --version',
      snakemake: 'snakemake --version',
      hyperfine: 'hyperfine --version',
      sbatch: 'sbatch --version',
    }),
    scenarios: args.only ? await withEarlier(args.quick ? 'quick' : 'full', results) : results,
  };
  for (const path of await writeReport(report)) log(`wrote ${path}`);
}

main().catch((e: unknown) => {
  log(`error: ${errorMessage(e)}`);
  process.exit(1);
});
