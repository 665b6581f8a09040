/** `dstack run`: plan a workflow and its dependencies, submit the run, stream its logs. */
import { setTimeout as sleep } from 'node:timers/promises';
import pc from 'picocolors';
import type { Client } from '../../client/client.js';
import type { Snapshot } from '../../client/snapshot.js';
import { loadProject, findProjectRoot } from '../../config/index.js';
import { misnamedProjectFile, noProjectIn } from '../../config/project-root.js';
import { NotFoundError, UsageError } from '../../core/errors.js';
import { isFinished } from '../../core/job-status.js';
import type { OutputLine } from '../../core/log-frames.js';
import { checkOverrides, findWorkflow } from '../../core/overrides.js';
import { plan, type Plan } from '../../core/planner.js';
import { tagElsewhereHint } from '../../core/projects.js';
import { cacheSource, type JobRecord, type RunView } from '../../core/records.js';
import { acceptedVariables } from '../../core/variables.js';
import type { ProjectConfig } from '../../core/workflow.js';
import { plainCacheDir, type Settings } from '../../settings.js';
import { colorStatus, printable, styled, table } from '../format.js';
import { ignoredNote, untrackedNote } from '../untracked-note.js';
import { locateDependencyError } from './dependency-errors.js';
import { formatPlan, formatWorkflowHelp, formatWorkflowList } from './plan-output.js';
import { flagNames, parseRunArgs, refuseOneDash, requireValues } from './run-args.js';

export async function runCommand(argv: readonly string[], settings: Settings, cwd: string): Promise<number> {
  const args = parseRunArgs(argv);
  const root = findProjectRoot(cwd);
  // `.dstack/workflows.yml` is no project file: said, rather than "no project" or a project above taken.
  const misnamed = misnamedProjectFile(cwd, root);
  if (!root || misnamed) {
    refuseOneDash(args, []);
    if (args.help) {
      process.stdout.write(
        `usage: dstack run WORKFLOW [--VARIABLE VALUE]... [-d] [--tag TAG] [--no-cache] [--dry-run]\n\n`,
      );
      const where = misnamed ?? noProjectIn(cwd);
      process.stdout.write(`${where[0]!.toUpperCase()}${where.slice(1)}.\n`);
      return 0;
    }
    throw new UsageError(misnamed ?? `${noProjectIn(cwd)}; run dstack from your project folder`);
  }
  const config = await loadProject(root, { plainCache: plainCacheDir(settings.home) });
  printWarnings(config.warnings);
  const target = config.workflows.find((w) => w.name === args.workflow);
  const variables = target ? acceptedVariables(config.variables, target.name) : new Map<string, string>();
  refuseOneDash(args, variables.keys());
  if (args.workflow === undefined) {
    if (args.help) return (process.stdout.write(formatWorkflowList(config)), 0);
    throw new UsageError(needsWorkflow(config));
  }
  findWorkflow(config, args.workflow);
  if (args.help) return (process.stdout.write(formatWorkflowHelp(config, args.workflow)), 0);
  // A flag without a value is first of all a flag: an unknown one is named as unknown.
  checkOverrides(config, args.workflow, flagNames(args));
  requireValues(args, variables);

  // Loaded here, not at the top: `dstack run --help` needs neither providers nor the client.
  const { providerRegistry } = await import('../../providers/index.js');
  // Plan fully before talking to any server: a bad config submits nothing.
  const providers = providerRegistry({ config, home: settings.home });
  const planned = await plan(config, { target: args.workflow, overrides: args.overrides }, providers);
  printWarnings(planned.warnings);
  if (args.dryRun) return dryRun(config, planned, root, settings, args.noCache, args.tag);

  const [
    { connect },
    { snapshotProject, uploadSnapshot },
    { printLines, noteInterrupted, noteResumed, noteUndeliveredLines, noteResumable },
    { noteWaiting },
    { cachedLogNotes },
  ] = await Promise.all([
    import('../connect.js'), // not loaded for --help and --dry-run
    import('../../client/snapshot.js'),
    import('./logs.js'),
    import('../waiting-notes.js'),
    import('../cached-log-notes.js'),
  ]);
  const client = await connect(settings);
  // Ctrl-C before the run exists ends the command as it would, saying what was left behind.
  let submitting = false;
  const interrupted = () => {
    process.stderr.write(
      submitting
        ? '\ninterrupted while the run was being submitted: it may be; dstack status shows it\n'
        : '\ninterrupted before the run was submitted: nothing runs\n',
    );
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  const snapshot = await snapshotProject(root, settings.home);
  await checkCode(config, planned, snapshot);
  const untracked = untrackedNote(snapshot.manifest.files, snapshot.untracked);
  if (untracked) process.stderr.write(`note: ${untracked}\n`);
  if (snapshot.ignoredIn !== undefined) process.stderr.write(`note: ${ignoredNote(root, snapshot.ignoredIn)}\n`);
  const codeDigest = await uploadSnapshot(client, root, snapshot);
  submitting = true;
  const run = await client
    .submitRun({
      workflow: args.workflow,
      overrides: args.overrides,
      repo: snapshot.repo,
      codeDigest,
      jobs: planned.jobs,
      ...(args.tag ? { tag: args.tag } : {}),
      ...(args.noCache ? { noCache: true } : {}),
    })
    .catch(locatedIn(planned))
    .finally(() => process.off('SIGINT', interrupted));
  // Why the cache did not answer a job that ran before: what changed since.
  const anew = Object.entries(run.anew ?? {}).map(([ref, why]) => pc.dim(`${ref}: runs anew: ${why}\n`));
  if (args.detach) {
    process.stderr.write(anew.join(''));
    process.stdout.write(run.name + '\n'); // what scripts read, failed or not
    return failedAtSubmission(run);
  }
  process.stderr.write(pc.dim(`run ${run.name}: ${run.jobs.map((j) => `${j.ref} (${j.id})`).join(', ')}\n`));
  process.stderr.write(anew.join(''));
  // Jobs the cache answered print one line each instead of their old log.
  const reused = run.jobs.filter((j) => j.cachedFrom && j.status === 'DONE');
  const cached = new Set(reused.map((j) => j.id));
  if (reused.length > 0) {
    process.stderr.write(reused.map((j) => pc.dim(`${j.ref}: cached, reusing ${cacheSource(j)}\n`)).join(''));
  }
  // Nothing left to run (the cache answered every job): no log to follow, the run is as submitted.
  if (cached.size === run.jobs.length) return finish(client, run, args.tag);
  const abort = new AbortController();
  const detach = () => abort.abort();
  process.once('SIGINT', detach);
  const waiting = noteWaiting(client, run.name);
  // A job that joined an identical one running elsewhere shows that job's lines: a note says so before the first.
  const joined = await cachedLogNotes(
    client,
    run.jobs.filter((j) => j.cachedFrom && !cached.has(j.id)),
  );
  const print = (lines: readonly OutputLine[]) => printLines(lines, run.jobs);
  try {
    await client.followLogs(run.name, {
      onLines: (lines) => {
        waiting.heard();
        const own = lines.filter((l) => !cached.has(l.jobId));
        return joined ? joined.print(own, print) : print(own);
      },
      ...(joined ? { onJobs: (records: JobRecord[]) => joined.update(records) } : {}),
      onInterrupted: noteInterrupted,
      onResumed: noteResumed,
      signal: abort.signal,
    });
  } catch (e) {
    if (!abort.signal.aborted) throw e;
    process.stderr.write(
      `\ndetached; run ${run.name} goes on. Follow it with 'dstack logs -f ${run.name}', stop it with 'dstack stop ${run.name}'.\n`,
    );
    return 130;
  } finally {
    waiting.stop();
    process.off('SIGINT', detach);
  }
  const ended = await client.getRun(run.name);
  const code = await finish(client, ended, args.tag);
  noteUndeliveredLines(ended.jobs); // a lost job's follow may have missed lines its runner still sends
  noteResumable(ended.name, ended.jobs);
  return code;
}

/** `dstack run` alone: what to run, named (`dstack run --help` has each one's help). */
function needsWorkflow(config: ProjectConfig): string {
  const names = config.workflows.map((wf) => wf.name);
  if (names.length === 0) return 'dstack run needs a workflow, and .dstack/workflows.yaml defines none yet';
  return `dstack run needs a workflow: dstack run WORKFLOW, one of ${names.join(', ')} (dstack run --help says what each does)`;
}

/**
 * `run -d`'s exit code: 1 when jobs failed as the run was submitted (the embedded server fails
 * one this machine can never fit before it answers), each named on stderr with why.
 */
function failedAtSubmission(run: RunView): number {
  const failed = run.jobs.filter((j) => j.status === 'FAILED');
  if (failed.length === 0) return 0;
  for (const job of failed)
    process.stderr.write(`${job.ref} (${job.id}) ${pc.red('FAILED')}: ${printable(job.reason ?? 'failed')}\n`);
  const end = isFinished(run.status) ? '' : `; its other jobs go on (dstack status ${run.name})`;
  process.stderr.write(`run ${run.name} ${end ? 'will end ' : ''}${pc.red('FAILED')}${end}\n`);
  return 1;
}

/** The summary of a run that has ended; the exit code says whether it succeeded. */
async function finish(client: Client, run: RunView, tag: string | undefined): Promise<number> {
  printSummary(run);
  if (tag !== undefined) await noteTag(client, run, tag);
  return run.status === 'DONE' ? 0 : 1;
}

/**
 * Say whether `--tag` landed; when not, why: the run did not end DONE, or another run took the tag
 * between the submission and the end (the server refuses that, but a second server process
 * on the same database could let it through). The server tags a run as its last job ends, so
 * a DONE run without its tag is asked about again for a moment.
 */
async function noteTag(client: Client, run: RunView, tag: string): Promise<void> {
  const warn = (why: string) => printWarnings([`run ${run.name} is not tagged ${tag}: ${why}`]);
  const tagged = () => void process.stderr.write(`tagged run ${run.name} as ${tag}\n`);
  if (run.status !== 'DONE') return warn('only a run whose jobs are all DONE is tagged');
  if (run.tag === tag) return tagged();
  for (let tries = 0; tries < 20; tries++) {
    const holder = (await client.tags()).find((r) => r.tag === tag);
    if (holder?.name === run.name) return tagged();
    if (holder) return warn(`run ${holder.name} took the tag while this one ran (dstack tags list)`);
    await sleep(100);
  }
  warn('the server did not tag it; its log says why');
}

function printSummary(run: RunView): void {
  const rows = run.jobs.map((j: JobRecord) => [j.id, j.ref, styled(colorStatus(j.status)), j.reason ?? '']);
  process.stderr.write(`\n${table(['JOB', 'WORKFLOW', 'STATUS', 'REASON'], rows)}\n`);
  const word = isFinished(run.status) ? run.status : `${run.status} (still running)`;
  process.stderr.write(`run ${run.name} ${word === 'DONE' ? pc.green(word) : pc.red(word)}\n`);
}

/**
 * What of the project the jobs will not see as the user may think: links out of it (a
 * warning), a python script or requirements file git ignores (refused: the job would fail),
 * `inputs:` globs matching nothing (refused: the cache would reuse stale results).
 */
async function checkCode(config: ProjectConfig, planned: Plan, snapshot: Snapshot): Promise<void> {
  printWarnings(
    snapshot.leftOut.map(
      ({ path, link }) =>
        `link '${path}' (-> ${link}) points outside the project, so jobs do not get it; name that path in the commands instead`,
    ),
  );
  const python = planned.workflows.filter((wf) => wf.provider === 'python');
  // Outside git (no branch status in the repo record) the code is every file: none is left out.
  if (python.length > 0 && snapshot.repo.dirty !== undefined) {
    const { checkFilesInCode } = await import('../../providers/python-files.js');
    const code = new Set(snapshot.manifest.files.map((f) => f.path));
    const leftOut = new Set(snapshot.leftOut.map((l) => l.path));
    for (const wf of python) checkFilesInCode(wf, code, leftOut);
  }
  if (!planned.workflows.some((wf) => wf.inputs)) return; // most have none: no picomatch to load
  const { checkInputsMatch } = await import('../../core/inputs.js');
  checkInputsMatch(
    planned.workflows,
    snapshot.manifest.files.map((f) => f.path),
    // What jobs make, the plan's and a tagged run's (its workflows are in this file too).
    [...planned.jobs.flatMap((j) => j.artifacts), ...config.workflows.flatMap((w) => w.artifacts)],
  );
}

/** A server's refusal of a tag dependency, put at its place in the file (dependency-errors.ts). */
function locatedIn(planned: Plan): (e: unknown) => never {
  return (e) => {
    throw locateDependencyError(planned.workflows, e);
  };
}

function printWarnings(warnings: readonly string[]): void {
  // Warnings name the project's files and links: shown printable.
  for (const warning of warnings) process.stderr.write(`${pc.yellow('warning:')} ${printable(warning)}\n`);
}

/**
 * Print the plan. With a server at hand (configured, or the local one already running) it
 * also says where tag dependencies resolve and which jobs the cache would reuse; a dry run
 * never starts a server.
 */
async function dryRun(
  config: ProjectConfig,
  planned: Plan,
  root: string,
  settings: Settings,
  noCache: boolean,
  tag?: string,
): Promise<number> {
  const { connectIfRunning } = await import('../connect.js');
  const client = await connectIfRunning(settings);
  const takeSnapshot = async () => (await import('../../client/snapshot.js')).snapshotProject(root, settings.home);
  if (!client) {
    // The code is read only for what the run would refuse in it (inputs matching nothing, python files git ignores).
    const { mayBeGitRepo } = await import('../../client/git.js');
    const ignoredFiles = planned.workflows.some((wf) => wf.provider === 'python') && mayBeGitRepo(root);
    if (ignoredFiles || planned.workflows.some((wf) => wf.inputs))
      await checkCode(config, planned, await takeSnapshot());
    process.stdout.write(formatPlan(planned));
    process.stdout.write('(no server is running: tag dependencies and the cache were not checked)\n');
    // The run would start the embedded server, whose runner is this machine.
    const { reportNeverStarts, tooBigForThisMachine } = await import('./dry-run-fit.js');
    reportNeverStarts(await tooBigForThisMachine(planned.jobs));
    return 0;
  }
  const snapshot = await takeSnapshot();
  await checkCode(config, planned, snapshot);
  const preview = await client
    .previewRun({ jobs: planned.jobs, code: snapshot.manifest, repo: snapshot.repo })
    .catch(locatedIn(planned));
  // With --no-cache the run reuses nothing, whatever the cache holds.
  process.stdout.write(formatPlan(planned, noCache ? { ...preview, cached: {}, anew: {} } : preview));
  // As the run would be refused: at the entry, exit 2 (the plan above shows the rest).
  const missing = Object.entries(preview.tags ?? {}).find(([, run]) => run === null)?.[0];
  if (missing !== undefined) {
    const tag = missing.slice(missing.lastIndexOf(':') + 1);
    // The user's runs with the tag in other projects: where this project's key changed (a remote added).
    const hint = tagElsewhereHint(tag, preview.tagsElsewhere?.[missing] ?? []);
    const message = hint
      ? `depends-on '${missing}': no run has the tag '${tag}' in project ${preview.project}; ${hint}`
      : `depends-on '${missing}': no run has the tag '${tag}'; see 'dstack tags list'`;
    locatedIn(planned)(new NotFoundError(message));
  }
  if (tag !== undefined) await noteTagTaken(client, preview.project, tag);
  // A job the cache would answer runs nowhere.
  const reused = noCache ? {} : preview.cached;
  const never = Object.entries(preview.neverStarts ?? {}).filter(([ref]) => !(ref in reused));
  const { reportNeverStarts } = await import('./dry-run-fit.js');
  reportNeverStarts(Object.fromEntries(never));
  return 0;
}

/**
 * `--tag T` that the run would be refused for: another of the caller's runs of the project holds
 * T, or is promised it. A warning, as a job that would not fit is: the plan itself is sound.
 */
async function noteTagTaken(client: Client, project: string | undefined, tag: string): Promise<void> {
  const runs = await client.tags(project, { mine: true, promised: true });
  const holder = runs.find((r) => r.tag === tag || r.tagOnDone === tag);
  if (holder === undefined) return;
  const how = holder.tag === tag ? `run ${holder.name} has it` : `it is promised to run ${holder.name} (when DONE)`;
  printWarnings([
    `the run would be refused: --tag ${tag}: ${how}; delete it first (dstack tags delete ${tag}), or give another --tag`,
  ]);
}
