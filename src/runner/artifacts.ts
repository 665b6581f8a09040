/** Saving a job's artifacts: scan each declared path, hash and upload new blobs (one read a file), then the manifest. */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunnerClient } from '../client/runner-client.js';
import { ConflictError, InvalidError } from '../core/errors.js';
import { printable } from '../core/printable.js';
import type { ArtifactManifest } from '../core/records.js';
import { filesAndSize } from '../core/resources.js';
import { HashCache } from '../files/hash-cache.js';
import {
  artifactEntries,
  scanArtifactPath,
  withoutChainedLinks,
  type ArtifactScan,
  type OnLeftOut,
  type Scanned,
} from '../files/manifest.js';
import { progressNotes } from '../files/progress-notes.js';
import { StoredDigests } from '../files/stored-digests.js';
import { NonUtf8NamesError } from '../files/non-utf8-names.js';
import { UnreadablePathError } from '../files/unreadable.js';
import { uploadFiles } from '../files/transfer.js';
import { uploadScanned } from '../files/upload-scanned.js';

/**
 * Digests of the files this runner saved before: a job that saves the same big folder again
 * (a checkpoint with one file changed) reads only what changed. Shared by the runner's jobs.
 */
const hashes = new HashCache();
/** Blobs this runner has seen stored: a re-save of unchanged files asks nothing about them (see stored-digests.ts). */
const stored = new StoredDigests();

export async function saveArtifacts(
  client: RunnerClient,
  jobId: string,
  workspace: string,
  paths: readonly string[],
  note: (text: string) => void,
  /** Where absolute artifact paths (in the job's container) are kept: `/opt/x` is `<containerRoot>/opt/x`. */
  containerRoot?: string,
  /** An abort: the save ends before its next file or batch, and stores no manifest. */
  signal?: AbortSignal,
): Promise<ArtifactManifest> {
  const manifest: ArtifactManifest = { artifacts: [] };
  // Nothing declared, nothing stored: the server reads a job without a manifest as one with none
  // (submit.ts's reuse, whose cache key counts the declaration).
  if (paths.length === 0) return manifest;
  const scans: { path: string; root: string | undefined; scan: ArtifactScan | undefined }[] = [];
  for (const path of paths) {
    const absolute = path.startsWith('/');
    const root = absolute ? containerRoot : workspace;
    const leftOut = (file: string, link: string) =>
      note(`artifact '${path}': left out ${file} -> ${link} (a link to outside the artifact)`);
    const scan = root === undefined ? undefined : await scanDeclared(root, path, leftOut);
    if (scan === undefined) note(await missingNote(root, path));
    scans.push({ path, root, scan });
  }
  // Once over the whole manifest (its artifacts are restored together, links following links);
  // the scans come back in their order.
  const checked = withoutChainedLinks(scans.flatMap((s) => (s.scan ? [s.scan] : [])));
  const byRoot = new Map<string, Scanned[]>();
  for (const { path, root, scan } of scans) {
    const files = scan ? artifactEntries(checked.shift()!) : [];
    // An absolute artifact's folder is made (and mounted) before the job: empty, it may be a misspelt path.
    const alone = files.length === 1 ? files[0]!.entry : undefined;
    if (path.startsWith('/') && alone?.folder === true && alone.path === path.slice(1)) {
      note(`artifact '${path}' is an empty folder: nothing was written there (is the path the one the job writes?)`);
    }
    // Entries get their digests as they are uploaded, below.
    manifest.artifacts.push({ path, files: files.map((f) => f.entry) });
    if (root !== undefined) byRoot.set(root, [...(byRoot.get(root) ?? []), ...files]);
  }
  const all = manifest.artifacts.flatMap((a) => a.files);
  let skipped = 0;
  if (all.length > 0) {
    const stats = { files: 0, bytes: 0 };
    for (const [root, files] of byRoot) {
      const options = { ...progressNotes('uploading artifacts', note), stored, ...(signal && { signal }) };
      const sent = await uploadScanned(client, root, files, hashes, options);
      stats.files += sent.files;
      stats.bytes += sent.bytes;
      skipped += sent.skipped;
    }
    const size = all.reduce((n, f) => n + f.size, 0);
    const folders = all.filter((f) => f.folder).length;
    const saved = filesAndSize(all.length - folders, size, folders);
    note(`saved artifacts: ${saved} (${filesAndSize(stats.files, stats.bytes)} new)`);
  }
  // Only after every blob is stored: the server accepts no manifest that names a missing blob.
  signal?.throwIfAborted();
  try {
    await client.putArtifacts(jobId, manifest);
  } catch (e) {
    if (!(e instanceof ConflictError) || skipped === 0) throw e;
    // A blob remembered as stored is gone (pruned since): ask about every one, send what is missing.
    stored.clear();
    for (const [root, files] of byRoot)
      await uploadFiles(
        client,
        root,
        files.map((f) => f.entry),
      );
    note('some artifact blobs had been deleted from the server since this runner stored them; sent again');
    await client.putArtifacts(jobId, manifest);
  }
  return manifest;
}

/**
 * What to say of an artifact path not found. A link there that leads nowhere on the runner was
 * said not to exist: a link that dangles, or on an absolute path one whose target is another
 * container path (`/ckpt -> /data/ckpt`), which the runner reads on its own disk, where only
 * the declared paths of the container are kept.
 */
async function missingNote(root: string | undefined, path: string): Promise<string> {
  const absolute = path.startsWith('/');
  const where = absolute ? 'container' : 'workspace';
  const target = root === undefined ? undefined : await readlink(join(root, path)).catch(() => undefined);
  if (target === undefined) return `artifact '${path}' does not exist in the ${where}; nothing saved for it`;
  const shown = printable(target);
  if (absolute && target.startsWith('/')) {
    return (
      `artifact '${path}' is a link to ${shown}, which the runner does not follow (only the declared paths ` +
      `of a container are kept on the runner); nothing saved for it: declare '${shown}' instead`
    );
  }
  return `artifact '${path}' is a link to ${shown}, which does not exist in the ${where}; nothing saved for it`;
}

/**
 * An artifact's files (scanArtifactPath); one the runner may not read, or names it cannot
 * store (not UTF-8), fail the save named with the artifact as declared: a file is never left
 * out in silence.
 */
async function scanDeclared(root: string, path: string, onLeftOut: OnLeftOut): Promise<ArtifactScan | undefined> {
  const absolute = path.startsWith('/');
  const artifact = `artifact '${printable(path)}'`;
  try {
    return await scanArtifactPath(root, absolute ? path.slice(1) : path, onLeftOut, absolute);
  } catch (e) {
    if (e instanceof NonUtf8NamesError) {
      const advice = (one: boolean) =>
        `rename ${one ? 'it' : 'them'} in the job's commands, or keep ${one ? 'it' : 'them'} out of the artifact`;
      throw e.explained(artifact, advice, absolute ? '/' : '');
    }
    if (!(e instanceof UnreadablePathError)) throw e;
    throw new InvalidError(`${artifact}: ${absolute ? '/' : ''}${e.message}`, { cause: e });
  }
}
