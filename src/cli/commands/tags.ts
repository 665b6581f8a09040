/** `dstack tags add|delete|list` and `dstack prune`. */
import { findProjectRoot, misnamedProjectFile, noProjectIn } from '../../config/project-root.js';
import type { PruneResult, TaggedRun } from '../../core/api.js';
import { UsageError } from '../../core/errors.js';
import { MAX_PRUNE_AGE_DAYS, MAX_PRUNE_AGE_MS } from '../../core/request-limits.js';
import { JOB_ID, JOB_ID_PREFIX } from '../../core/run-names.js';
import { checkTagName } from '../../core/tags.js';
import { formatSize, plural } from '../../core/resources.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { beforeRemoteHint, keyBeforeRemote, listingPlace, projectPlace, projectScope } from '../project-scope.js';
import { ago, DURATION_UNITS, printable, table } from '../format.js';
import { PROMISED, tagLabel } from '../tag-label.js';
import { anotherUsersOnly } from '../whose-runs.js';

/** `dstack tags list [--all]`: the tags of the project the CLI stands in, or of every project (with a PROJECT column). */
export async function tagsListCommand(options: { all?: boolean }, settings: Settings): Promise<number> {
  const [client, place] = await Promise.all([connect(settings), listingPlace(options.all, 'tags')]);
  const project = place?.key;
  const runs = await client.tags(project, { promised: true });
  if (runs.length === 0) {
    const where =
      project === undefined ? '' : ` in project ${printable(project)} ('dstack tags list --all' lists every project's)`;
    process.stdout.write(`No tags yet${where}. Tag a finished run with: dstack tags add TAG RUN\n`);
    const previous = keyBeforeRemote(place);
    if (previous && (await client.tags(previous, { mine: true })).length > 0)
      process.stdout.write(beforeRemoteHint('tags', previous, 'dstack tags list --all') + '\n');
    return 0;
  }
  const all = project === undefined;
  // An admin sees every user's tags: whose each is, once they are not all one user's, or not the admin's.
  const users = new Set(runs.map((r) => r.user)).size > 1 || (await anotherUsersOnly(client, runs));
  const rows = runs.map((r) => [
    tagLabel(r) ?? '',
    r.name,
    ...(users ? [r.user] : []),
    ...(all ? [r.project] : []),
    r.workflow,
    r.jobs.map((j) => j.ref).join(', '),
    ago(r.submittedAt),
  ]);
  const head = ['TAG', 'RUN', ...(users ? ['USER'] : []), ...(all ? ['PROJECT'] : []), 'WORKFLOW', 'JOBS', 'SUBMITTED'];
  process.stdout.write(table(head, rows) + '\n');
  if (runs.some((r) => r.tag === undefined)) {
    process.stdout.write(
      `${PROMISED}: promised to an unfinished run submitted with --tag, which gets it once DONE; ` +
        "'dstack tags delete TAG' lets it end untagged\n",
    );
  }
  return 0;
}

export async function tagsAddCommand(tag: string, run: string, settings: Settings): Promise<number> {
  checkTagName(tag, 'dstack tags add TAG RUN');
  const view = await (await connect(settings)).addTag(tag, run);
  if (view.unchanged) {
    process.stdout.write(`run ${view.name} has the tag ${tag} already (project ${view.project})\n`);
    return 0;
  }
  process.stdout.write(taggedLine(tag, run, view));
  return 0;
}

/**
 * What `tags add TAG TARGET` did: a tag names a run, so a job's id tags the job's whole run, and
 * says so. A tag lives in its run's project, wherever the CLI stands. `replaced`: a server before
 * 2026-11-25 moved the run's other tag in passing (a newer one refuses).
 */
export function taggedLine(tag: string, target: string, view: TaggedRun): string {
  const ofJob =
    target !== view.name && (JOB_ID.test(target) || JOB_ID_PREFIX.test(target)) ? `, the run of job ${target},` : '';
  const replaced = view.replaced ? `; its tag ${view.replaced} is gone` : '';
  return `tagged run ${view.name}${ofJob} as ${tag} (project ${view.project}${replaced})\n`;
}

/**
 * `dstack tags delete TAG [--project KEY] [--user NAME]`: the tag of the project named, or of the
 * one the CLI stands in; an admin's `--user` says whose.
 */
export async function tagsDeleteCommand(
  tag: string,
  options: { project?: string; user?: string },
  settings: Settings,
): Promise<number> {
  // Deleting: a `.dstack/workflows.yml` nearer than the project found is not that project's place.
  const misnamed =
    options.project === undefined ? misnamedProjectFile(process.cwd(), findProjectRoot(process.cwd())) : undefined;
  if (misnamed) throw new UsageError(`${misnamed} (or name the tag's project: --project KEY)`);
  const [client, project] = await Promise.all([connect(settings), options.project ?? projectScope(false)]);
  const { promisedTo, run, project: of, user } = await client.deleteTag(tag, project, options.user);
  // Which run had it: outside a project, the one project that has the tag was taken.
  const whose = user === undefined ? '' : `${user}'s `;
  process.stdout.write(
    promisedTo === undefined
      ? `deleted tag ${tag}${run && of ? ` of ${whose}run ${run} (project ${printable(of)})` : ''}\n`
      : `deleted tag ${tag}, promised to ${whose}run ${promisedTo}${of ? ` in project ${printable(of)}` : ''} ` +
          `(dstack run --tag ${tag}): that run will end untagged\n`,
  );
  return 0;
}

/** `7d`, `12h`, `30m`, `45s` → ms; UsageError otherwise. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid ${flag} '${text}': use a duration like 7d, 12h, 30m, 45s or 2w`);
  return Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
}

export async function pruneCommand(
  options: { olderThan: string; dryRun?: boolean; includeStopped?: boolean; allProjects?: boolean; json?: boolean },
  settings: Settings,
): Promise<number> {
  const olderThanMs = parseDuration(options.olderThan, '--older-than');
  if (olderThanMs > MAX_PRUNE_AGE_MS) {
    const years = MAX_PRUNE_AGE_DAYS / 365;
    throw new UsageError(
      `invalid --older-than '${options.olderThan}': at most ${MAX_PRUNE_AGE_DAYS}d (${years} years)`,
    );
  }
  // Deleting: outside a project, every project's runs only when asked for by name.
  const place = options.allProjects ? undefined : await projectPlace(false);
  const project = place?.key;
  // A `.dstack/workflows.yml` (no project file) nearer than the project found: not that project's runs.
  const misnamed = options.allProjects ? undefined : misnamedProjectFile(process.cwd(), place?.root);
  if (misnamed) throw new UsageError(misnamed);
  if (!options.allProjects && project === undefined) {
    throw new UsageError(
      `${noProjectIn(process.cwd())}: dstack prune deletes the runs of the project it stands in; ` +
        "run it from your project folder, or add --all-projects to prune every project's runs",
    );
  }
  const { dryRun, includeStopped } = options;
  const result = await (await connect(settings)).prune(olderThanMs, { project, dryRun, includeStopped });
  const warning = olderServerWarning(project, result);
  if (warning) process.stderr.write(warning);
  // JSON: the server's whole answer, every run named (the report names a few of each list).
  process.stdout.write(options.json ? JSON.stringify(result, null, 2) + '\n' : pruneReport(result));
  return 0;
}

/** A server before projects in prune ignores the field and prunes them all: the answer tells, as it has no `project`. */
export function olderServerWarning(asked: string | undefined, result: PruneResult): string | undefined {
  if (asked === undefined || result.project !== undefined) return undefined;
  return "warning: the server does not prune by project (an older version): it took every project's runs\n";
}

/** Runs a prune's report names of each list: a big server's prune takes hundreds (`--json` has them all). */
const NAMES_SHOWN = 10;

/** The first NAMES_SHOWN of `items` joined by `separator`, and how many more there are. */
function someOf(items: readonly string[], separator = ', '): string {
  const shown = items.slice(0, NAMES_SHOWN).join(separator);
  const more = items.length - NAMES_SHOWN;
  return more > 0 ? `${shown}${separator}and ${more} more (--json lists them all)` : shown;
}

/** What a prune did, or would do: the runs and blobs deleted, then whose runs those were and why others stayed. */
export function pruneReport(result: PruneResult): string {
  const { project } = result;
  const names = result.runs.length ? ` (${someOf(result.runs)})` : '';
  const of = project === undefined ? 'of every project' : `of project ${printable(project)}`;
  const runs = `${plural(result.runs.length, 'run')} ${of}${names}`;
  // Blobs stored in the last hour stay whatever refers to them: an upload may be under way.
  const blobs = `${plural(result.blobs, 'blob')} (${formatSize(result.bytes)}; those from the last hour stay)`;
  const leftovers = result.leftovers?.files
    ? `, ${plural(result.leftovers.files, 'temp file')} of interrupted uploads (${formatSize(result.leftovers.bytes)})`
    : '';
  const lines = [
    result.dryRun
      ? `would prune ${runs}, ${blobs} (a dry run: nothing was deleted)`
      : `pruned ${runs}, ${blobs}${leftovers}`,
  ];
  const others = result.otherUsers ?? [];
  if (others.length > 0)
    lines.push(`runs of other users among them (${someOf(others)}): an admin prunes every user's runs`);
  const reused = result.keptReused ?? [];
  if (reused.length > 0) {
    const each = reused.map((k) => `${k.run}, used by ${k.by ?? "another user's run"}`);
    lines.push(
      `kept ${plural(reused.length, 'run')} whose jobs kept runs reuse from the cache or depend on (${someOf(each, '; ')}): ` +
        `${reused.length === 1 ? 'it goes' : 'they go'} once those runs are pruned`,
    );
  }
  const stopped = result.keptStopped ?? [];
  if (stopped.length > 0) {
    lines.push(
      `kept ${plural(stopped.length, 'resumable run')} (${someOf(stopped)}): ` +
        `${stopped.length === 1 ? 'it can' : 'they can'} be resumed (dstack resume RUN); ` +
        `--include-stopped prunes ${stopped.length === 1 ? 'it' : 'them'} too`,
    );
  }
  return lines.join('\n') + '\n';
}
