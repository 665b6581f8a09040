/**
 * `dstack artifacts [-t] JOB [-o DIR]`: list a job's artifact files, or download them. An
 * empty folder is listed as `path/` without a size, and counts for no file.
 */
import { lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assertNever, ConflictError, UsageError } from '../../core/errors.js';
import type { ArtifactManifest, JobRecord, ManifestEntry } from '../../core/records.js';
import { formatSize, plural } from '../../core/resources.js';
import { downloadFiles } from '../../files/download.js';
import { makeChosenFolder } from '../../files/make-folder.js';
import { WriteBlockedError } from '../../files/write-blocked.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { didYouMean } from '../../core/suggest.js';
import { withWorkflowHint } from '../workflow-hint.js';
import { printable, table } from '../format.js';
import { transferProgress } from '../transfer-progress.js';

/**
 * The job of `dstack artifacts JOB`, or of `artifacts list JOB` and `artifacts download JOB -o
 * DIR`, as later dstack versions and their docs write them: `list` was looked up as a job
 * (`no run or job named 'list'`) and a job after it was `too many arguments`.
 */
export function artifactsTarget(args: readonly string[], options: { output?: string }): string {
  const [first, job, ...more] = args;
  const verb = first === 'list' || first === 'download' ? first : undefined;
  const usage = "dstack artifacts JOB lists a job's files, and dstack artifacts JOB -o DIR downloads them";
  if (verb === undefined) {
    // `artifacts donwload JOB`: a misspelt verb, not two jobs.
    const near = job !== undefined && more.length === 0 ? didYouMean(first!, ['list', 'download']) : '';
    if (job !== undefined)
      throw new UsageError(`dstack artifacts takes one job, not '${args.join(' ')}': ${usage}${near}`);
    return first!;
  }
  if (job === undefined || more.length > 0) throw new UsageError(`dstack artifacts ${verb} takes one job: ${usage}`);
  if (verb === 'download' && options.output === undefined)
    throw new UsageError(`dstack artifacts download needs the folder to download into: dstack artifacts ${job} -o DIR`);
  return job;
}

export async function artifactsCommand(
  job: string,
  options: { total?: boolean; output?: string },
  settings: Settings,
): Promise<number> {
  if (options.total && options.output !== undefined) {
    throw new UsageError("--total lists each artifact's size and --output downloads the files: give one of them");
  }
  // `resolve('')` is the current folder: `-o "$OUT"` with OUT unset would download into it.
  if (options.output?.trim() === '') throw new UsageError('--output is empty: give a folder (write -o . for this one)');
  const client = await connect(settings);
  let manifest = await withWorkflowHint(client, job, 'artifacts', () => client.artifacts(job));
  let record: JobRecord | undefined;
  if (manifest.artifacts.length === 0) {
    // Nothing saved yet, or nothing at all: only the job's status tells which.
    ({ job: record } = await client.getJob(job));
    const notYet = notSavedYet(record);
    if (notYet !== undefined) throw new ConflictError(notYet);
    manifest = await client.artifacts(job); // it may have ended since the first look
  }
  if (options.output !== undefined) {
    const dir = await outputFolder(options.output);
    const files = manifest.artifacts.flatMap((a) => a.files);
    // Said after, not refused: a second download of the same artifacts replaces them with themselves.
    const replaced = existingFiles(dir, files);
    const progress = transferProgress();
    let stats;
    try {
      stats = await downloadFiles(client, dir, files, progress.onProgress ? { onProgress: progress.onProgress } : {});
    } catch (e) {
      if (!(e instanceof WriteBlockedError)) throw e;
      throw e.explained('artifact file', (blocker) =>
        blocker === 'no permission'
          ? 'make it writable or download into another folder'
          : 'remove it or download into another folder',
      );
    } finally {
      progress.stop();
    }
    const local = stats.copied ? ` (${stats.copied} copied from the local server's store)` : '';
    const folders = stats.folders ? ` and ${plural(stats.folders, 'empty folder')}` : '';
    process.stdout.write(
      `downloaded ${plural(stats.files, 'file')} (${formatSize(stats.bytes)})${folders} to ${dir}${local}\n`,
    );
    noteNeverMade(job, manifest);
    if (replaced.length > 0) {
      const some =
        replaced
          .slice(0, 3)
          .map((path) => printable(path))
          .join(', ') + (replaced.length > 3 ? ', …' : '');
      process.stdout.write(`replaced ${plural(replaced.length, 'file')} that ${dir} had (${some})\n`);
    }
    return 0;
  }
  if (manifest.artifacts.length === 0) {
    process.stdout.write(`${record ? noneSaved(record) : `job ${job} has no artifacts`}\n`);
    return 0;
  }
  const rows = options.total
    ? manifest.artifacts.map((a) => [
        a.path,
        String(a.files.filter((f) => !f.folder).length),
        formatSize(a.files.reduce((n, f) => n + f.size, 0)),
      ])
    : manifest.artifacts.flatMap((a) =>
        a.files.map((f) =>
          f.folder ? [a.path, `${f.path}/`, ''] : [a.path, f.path, f.link ? `-> ${f.link}` : formatSize(f.size)],
        ),
      );
  process.stdout.write(
    table(options.total ? ['ARTIFACT', 'FILES', 'SIZE'] : ['ARTIFACT', 'FILE', 'SIZE'], rows) + '\n',
  );
  noteNeverMade(job, manifest);
  return 0;
}

/**
 * An artifact path the job never made has no file to list, not even its folder: without a word,
 * `artifacts` showed a table with no row for it (or only its header) and `-o` downloaded 0 files.
 */
function noteNeverMade(job: string, manifest: ArtifactManifest): void {
  const paths = manifest.artifacts.filter((a) => a.files.length === 0).map((a) => `'${printable(a.path)}'`);
  if (paths.length === 0) return;
  const which = paths.length === 1 ? `its artifact ${paths[0]}` : `its artifacts ${paths.join(', ')}`;
  process.stderr.write(`job ${job} saved nothing for ${which}: it did not exist when the job ended\n`);
}

/** The `--output` folder, made when missing; a UsageError naming the flag when it cannot be one. */
async function outputFolder(output: string): Promise<string> {
  const dir = resolve(output);
  await makeChosenFolder(dir, { setting: '--output', value: output, hint: 'give a folder (it is made when missing)' });
  return dir;
}

/** What a finished job without a manifest says: none declared, or why those declared were not saved. */
export function noneSaved(job: JobRecord): string {
  const declared = job.spec.artifacts;
  if (declared.length === 0) return `job ${job.id} has no artifacts`;
  const why =
    job.status === 'FAILED'
      ? `it FAILED (${printable(job.reason ?? 'no reason')}) without saving them`
      : job.status === 'ABORTED'
        ? 'it was aborted, and an aborted job saves none'
        : `it ended ${job.status} without saving them`;
  return `job ${job.id} declares artifacts (${declared.join(', ')}) but saved none: ${why}`;
}

/** Why a job that is not finished has no artifacts yet, and when it will; undefined once it is finished. */
function notSavedYet(job: JobRecord): string | undefined {
  switch (job.status) {
    case 'SUBMITTED':
    case 'DOWNLOADING':
    case 'RUNNING':
      return (
        `job ${job.id} is ${job.status}: its artifacts are saved when it ends or is stopped ` +
        `(dstack stop ${job.runName} saves them)`
      );
    case 'UPLOADING':
    case 'STOPPING':
      return `job ${job.id} is ${job.status}: its artifacts are being saved; try again when it ends`;
    case 'ABORTING':
      return `job ${job.id} is ABORTING: an aborted job saves no artifacts`;
    case 'DONE':
    case 'FAILED':
    case 'STOPPED':
    case 'ABORTED':
      return undefined;
    default:
      return assertNever(job.status, 'job status');
  }
}

/**
 * The entries' paths that something already occupies under `dir` (an lstat each: microseconds,
 * in place); a folder where an empty folder goes is kept, not replaced.
 */
function existingFiles(dir: string, files: readonly ManifestEntry[]): string[] {
  const replaced = (f: ManifestEntry) => {
    try {
      const found = lstatSync(join(dir, f.path), { throwIfNoEntry: false });
      return found !== undefined && !(f.folder && found.isDirectory());
    } catch {
      return false; // a file where a folder goes: the download says so
    }
  };
  return files.filter(replaced).map((f) => f.path);
}
