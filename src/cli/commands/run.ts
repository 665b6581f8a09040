/** `dstack run`: plan a workflow and its dependencies, submit the run, stream its logs. */
import pc from 'picocolors';
import { loadProject, findProjectRoot } from '../../config/index.js';
import { UsageError } from '../../core/errors.js';
import { isFinished } from '../../core/job-status.js';
import { checkOverrides, findWorkflow, plan } from '../../core/planner.js';
import { acceptedVariables } from '../../core/variables.js';
import type { ProjectConfig } from '../../core/workflow.js';
import type { JobRecord, RunView } from '../../core/records.js';
import { providerRegistry } from '../../providers/index.js';
import { snapshotProject, uploadSnapshot } from '../../client/snapshot.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { colorStatus, table } from '../format.js';
import { printLines } from './logs.js';
import { parseRunArgs } from './run-args.js';

export async function runCommand(argv: readonly string[], settings: Settings, cwd: string): Promise<number> {
  const args = parseRunArgs(argv);
  const root = findProjectRoot(cwd);
  if (!root) {
    if (args.help) {
      process.stdout.write(`usage: dstack run WORKFLOW [--VARIABLE VALUE]... [-d] [--tag TAG] [--dry-run]\n\n`);
      process.stdout.write(`No .dstack/workflows.yaml in ${cwd} or its parents.\n`);
      return 0;
    }
    throw new UsageError(`no .dstack/workflows.yaml in ${cwd} or its parents; run dstack from your project folder`);
  }
  const config = await loadProject(root);
  for (const warning of config.warnings) process.stderr.write(`${pc.yellow('warning:')} ${warning}\n`);
  if (args.workflow === undefined) {
    if (args.help) return (printWorkflows(config), 0);
    printWorkflows(config);
    throw new UsageError('which workflow? name one: dstack run WORKFLOW');
  }
  findWorkflow(config, args.workflow);
  if (args.help) return (printVariables(config, args.workflow), 0);
  checkOverrides(config, args.workflow, args.overrides);

  // Plan fully before talking to any server: a bad config submits nothing.
  const planned = await plan(config, { target: args.workflow, overrides: args.overrides }, providerRegistry());
  if (args.dryRun) return (printPlan(planned.jobs), 0);

  const client = await connect(settings);
  const snapshot = await snapshotProject(root);
  const codeDigest = await uploadSnapshot(client, root, snapshot);
  const run = await client.submitRun({
    workflow: args.workflow,
    overrides: args.overrides,
    repo: snapshot.repo,
    codeDigest,
    jobs: planned.jobs,
    ...(args.tag ? { tag: args.tag } : {}),
  });
  if (args.detach) {
    process.stdout.write(run.name + '\n');
    return 0;
  }
  process.stderr.write(pc.dim(`run ${run.name}: ${run.jobs.map((j) => `${j.workflow} (${j.id})`).join(', ')}\n`));
  const abort = new AbortController();
  const detach = () => abort.abort();
  process.once('SIGINT', detach);
  try {
    await client.followLogs(run.name, {
      onLines: (lines) => printLines(lines, run.jobs),
      signal: abort.signal,
    });
  } catch (e) {
    if (!abort.signal.aborted) throw e;
    process.stderr.write(
      `\ndetached; run ${run.name} goes on. Follow it with 'dstack logs -f ${run.name}', stop it with 'dstack stop ${run.name}'.\n`,
    );
    return 130;
  } finally {
    process.off('SIGINT', detach);
  }
  const final = await client.getRun(run.name);
  printSummary(final);
  return final.status === 'DONE' ? 0 : 1;
}

function printSummary(run: RunView): void {
  const rows = run.jobs.map((j: JobRecord) => [j.id, j.workflow, colorStatus(j.status), j.reason ?? '']);
  process.stderr.write(`\n${table(['JOB', 'WORKFLOW', 'STATUS', 'REASON'], rows)}\n`);
  const word = isFinished(run.status) ? run.status : `${run.status} (still running)`;
  process.stderr.write(`run ${run.name} ${word === 'DONE' ? pc.green(word) : pc.red(word)}\n`);
}

function printWorkflows(config: ProjectConfig): void {
  const names = config.workflows.map((w) => w.name);
  const width = Math.max(0, ...names.map((n) => n.length)) + 4;
  const lines = config.workflows.map((w) => `    ${w.name.padEnd(width)}${w.help ?? `run ${w.name} workflow`}`);
  process.stdout.write(
    `usage: dstack run {${names.join(',')}} ...\n\npositional arguments:\n${lines.join('\n')}\n\n` +
      `options:\n    -d, --detach    submit and print the run name without waiting\n` +
      `    --tag TAG       tag the run when it finishes\n    --dry-run       show the plan and submit nothing\n`,
  );
}

function printVariables(config: ProjectConfig, workflow: string): void {
  const vars = [...acceptedVariables(config.variables, workflow)];
  const usage = vars.map(([n]) => `[--${n} [${n.toUpperCase()}]]`).join(' ');
  const width = Math.max(0, ...vars.map(([n]) => n.length)) + 4;
  const argWidth = Math.max(0, ...vars.map(([n]) => n.length)) + 4;
  const lines = vars.map(
    ([n, v]) =>
      `  ${`--${n}`.padEnd(width)}${`[${n.toUpperCase()}]`.padEnd(argWidth)}default is ${v === '' ? '""' : v}`,
  );
  const help = config.workflows.find((w) => w.name === workflow)?.help;
  process.stdout.write(
    `usage: dstack run ${workflow} ${usage}\n${help ? `\n${help}\n` : ''}\n` +
      (vars.length ? `optional arguments:\n${lines.join('\n')}\n` : `This workflow has no variables.\n`),
  );
}

function printPlan(jobs: import('../../core/job-spec.js').JobSpec[]): void {
  for (const job of jobs) {
    const deps = job.dependsOn.map((d) => ('ref' in d ? d.ref : `${d.workflow}:${d.tag}`));
    process.stdout.write(`${pc.bold(job.ref)} (provider ${job.provider}${job.image ? `, image ${job.image}` : ''})\n`);
    if (deps.length) process.stdout.write(`  depends on: ${deps.join(', ')}\n`);
    for (const c of job.commands) process.stdout.write(`  $ ${c}\n`);
    if (job.artifacts.length) process.stdout.write(`  artifacts: ${job.artifacts.join(', ')}\n`);
    const vars = Object.entries(job.variables);
    if (vars.length) process.stdout.write(`  variables: ${vars.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  }
}
