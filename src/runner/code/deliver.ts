/**
 * A job's code in its workspace, exactly the files of the run's manifest (paths, bytes,
 * modes), by one of two routes:
 *
 * - clone: when the run's user registered its remote (`dstack init`), the runner clones
 *   it into its cached mirror, writes the commit's files that are unchanged, and fetches
 *   the rest (changed and untracked files) as blobs. Deleted and ignored files are never
 *   in the manifest, so they never appear.
 * - bundle: every file as a blob, as uploaded by the CLI. Used with no registered remote,
 *   and when the clone fails, if the CLI uploaded every file (it does unless the commit
 *   is on the remote).
 */
import { rm } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import type { RunnerClient } from '../../client/runner-client.js';
import type { Assignment, CodeManifest } from '../../core/api.js';
import { unlessAborted } from '../../core/concurrency.js';
import { UnavailableError } from '../../core/errors.js';
import type { CodeSource } from '../../core/repos.js';
import type { TransferStats } from '../../files/transfer.js';
import { downloadForJob } from '../downloads.js';
import { plural } from '../../core/resources.js';
import { makeFolder } from '../../files/make-folder.js';

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Digests of `files` the server does not have. */
async function missing(client: RunnerClient, files: CodeManifest['files'], signal?: AbortSignal): Promise<string[]> {
  const digests = [...new Set(files.flatMap((f) => (f.digest ? [f.digest] : [])))];
  return digests.length === 0 ? [] : client.missingBlobs(digests, signal);
}

/** The commit's unchanged files from the mirror, the others from blobs; throws when either fails. */
async function fromClone(
  client: RunnerClient,
  workRoot: string,
  dir: string,
  source: CodeSource,
  commit: string,
  subdir: string,
  code: CodeManifest,
  signal: AbortSignal | undefined,
): Promise<{ cloned: number; stats: TransferStats }> {
  // Loaded for this route only: most jobs get their code as blobs, and every module a job
  // loads before its first command is on its start latency (a Slurm batch job loads them all).
  const [{ gitAuth }, { mirrorWithCommit }, { listTree, writeMatchingBlobs }] = await Promise.all([
    import('./git-auth.js'),
    import('./mirror.js'),
    import('./checkout.js'),
  ]);
  const auth = await gitAuth(source.remote, source.credential);
  let written: Set<string>;
  try {
    const mirror = await mirrorWithCommit(workRoot, source.user, source.remote, commit, auth, signal);
    const tree = await listTree(mirror, commit, subdir, auth, signal);
    written = await writeMatchingBlobs(mirror, tree, code.files, dir, auth, signal);
  } finally {
    await auth.cleanup();
  }
  const rest = code.files.filter((f) => !written.has(f.path));
  const lacking = await missing(client, rest, signal);
  if (lacking.length > 0) throw new Error(`${lacking.length} files differ from the commit and were not uploaded`);
  return { cloned: written.size, stats: await downloadForJob(client, dir, rest, signal) };
}

/** Code manifests kept: a run's jobs share one, and a manifest's digest names its content. */
const MANIFESTS_KEPT = 16;
const manifests = new Map<string, Promise<CodeManifest>>();

/** The run's code manifest, fetched once per digest rather than once per job, or as the assignment carries it. */
function codeManifest(client: RunnerClient, digest: string, sent: CodeManifest | undefined): Promise<CodeManifest> {
  if (sent !== undefined) return Promise.resolve(sent);
  let manifest = manifests.get(digest);
  if (manifest === undefined) {
    manifest = client.retry(async () => JSON.parse(await text(await client.getBlob(digest))) as CodeManifest);
    if (manifests.size >= MANIFESTS_KEPT) manifests.delete(manifests.keys().next().value!);
    manifests.set(digest, manifest);
    manifest.catch(() => manifests.delete(digest)); // a failed fetch is tried again by the next job
  }
  return manifest;
}

/**
 * Put the run's code into the empty folder `dir`; `note` tells the job's log where it came from.
 * `signal` ends it (the job was stopped), the wait on a manifest other jobs share included.
 */
export async function deliverCode(
  client: RunnerClient,
  workRoot: string,
  dir: string,
  assignment: Assignment,
  note: (text: string) => void,
  signal?: AbortSignal,
): Promise<TransferStats> {
  const code = await unlessAborted(codeManifest(client, assignment.run.codeDigest, assignment.code), signal);
  const { remote, commit, subdir = '' } = assignment.run.repo;
  if (!remote || !commit || !COMMIT.test(commit)) return downloadForJob(client, dir, code.files, signal);

  let failure: string | undefined;
  try {
    const source = await client.codeSource(assignment.job.id, signal);
    if (source) {
      const { cloned, stats } = await fromClone(client, workRoot, dir, source, commit, subdir, code, signal);
      note(
        `code: ${plural(cloned, 'file')} from ${remote} at ${commit.slice(0, 12)}, ${stats.files} from the uploaded changes`,
      );
      return stats;
    }
  } catch (e) {
    if (signal?.aborted) throw e; // stopped, not failed: no fallback to the bundle
    failure = (e as Error).message;
  }
  if (failure === undefined) return downloadForJob(client, dir, code.files, signal); // the user did not register the remote
  // The clone route failed part-way: start over from the bundle, if the CLI uploaded all of it.
  await rm(dir, { recursive: true, force: true });
  await makeFolder(dir);
  const lacking = await missing(client, code.files, signal);
  if (lacking.length > 0) {
    throw new UnavailableError(
      `cannot get the code: ${failure}; and the run uploaded only the files that differ from ${commit.slice(0, 12)}` +
        ` (${remote} is registered with dstack init); make it reachable from this runner and run again`,
    );
  }
  note(`code: could not use ${remote} (${failure}); using the uploaded files`);
  return downloadForJob(client, dir, code.files, signal);
}
