/**
 * A job's artifacts as one tar stream, for the dashboard's "Download all": each file under the
 * path `dstack artifacts JOB -o DIR` writes it to (relative, inside the archive), with its
 * permission bits, empty folders, and symlinks last, none of which may lead out of its artifact
 * (the check the runner made when it saved them, made again: a manifest is data). Files are
 * read from the blob store one after another, small ones a few ahead, so the server holds a
 * chunk of a big file and a few small files at a time, whatever the archive's size.
 */
import { Readable } from 'node:stream';
import { Header, type HeaderData } from 'tar/header';
import { Pax } from 'tar/pax';
import { SMALL_BLOB } from '../../core/blob-api.js';
import { mapAhead } from '../../core/concurrency.js';
import { InvalidError, UnavailableError } from '../../core/errors.js';
import { restoredFileMode, restoredFolderMode } from '../../core/file-modes.js';
import type { ArtifactManifest, ManifestEntry } from '../../core/records.js';
import { linksLeadingOut } from '../../files/link-resolution.js';
import { BLOCK, padding } from '../../files/pack.js';
import { normalizeRelative } from '../../files/safe-path.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Small files fetched ahead of the one being sent: S3's latency, not its bandwidth, bounds them. */
const AHEAD = 8;

/** The archive's entries, in the order they go: files, then empty folders, then links. */
export interface ArchivePlan {
  files: ManifestEntry[];
  folders: ManifestEntry[];
  links: ManifestEntry[];
  /** Bytes of file content in all. */
  bytes: number;
}

/**
 * What goes in the archive of `manifest`; InvalidError, before anything is sent, for a path that
 * is absolute or leaves its folder, or a link that leads out of its artifact.
 */
export function archivePlan(manifest: ArtifactManifest): ArchivePlan {
  const plan: ArchivePlan = { files: [], folders: [], links: [], bytes: 0 };
  const kept: { path: string; link: string; boundary: string }[] = [];
  const seen = new Set<string>();
  for (const artifact of manifest.artifacts) {
    const boundary = normalizeRelative(artifact.path);
    for (const entry of artifact.files) {
      const path = normalizeRelative(entry.path);
      if (seen.has(path)) continue; // two artifacts that overlap list it twice; once is enough
      seen.add(path);
      const named = { ...entry, path };
      if (entry.link !== undefined) {
        plan.links.push(named);
        kept.push({ path, link: entry.link, boundary });
      } else if (entry.folder) plan.folders.push(named);
      else if (entry.digest !== undefined) {
        plan.files.push(named);
        plan.bytes += entry.size;
      }
    }
  }
  const out = linksLeadingOut(kept);
  if (out.length > 0) {
    const first = out[0]!;
    throw new InvalidError(
      `the artifacts of this job hold a symlink that leads out of its artifact ('${first.path}' -> '${first.link}'), ` +
        'so they are not archived; dstack artifacts JOB -o DIR refuses it too',
    );
  }
  return plan;
}

/** The header block(s) of one entry: a pax header first when a field does not fit ustar (a long path). */
function header(data: HeaderData): Buffer {
  const block = Buffer.alloc(BLOCK);
  const full = { uid: 0, gid: 0, ...data };
  const needPax = new Header(full).encode(block, 0);
  return needPax ? Buffer.concat([new Pax(full).encode(), block]) : block;
}

type Content = Buffer | (() => Promise<Readable>);

/** The tar stream of `plan`, reading each file from `blobs`; `mtime`: every entry's time. */
export async function* artifactTar(blobs: BlobStore, plan: ArchivePlan, mtime: Date): AsyncGenerator<Buffer> {
  const fetch = async (entry: ManifestEntry): Promise<Content> => {
    const digest = entry.digest!;
    if (entry.size < SMALL_BLOB && blobs.getBytes) return blobs.getBytes(digest, SMALL_BLOB);
    return () => blobs.get(digest);
  };
  let i = 0;
  for await (const content of mapAhead(plan.files, AHEAD, fetch)) {
    const entry = plan.files[i++]!;
    yield header({ path: entry.path, mode: restoredFileMode(entry.mode), size: entry.size, type: 'File', mtime });
    let sent = 0;
    const check = (n: number) => {
      sent += n;
      // A blob of another length than its manifest says would shift every later entry: stop here.
      if (sent > entry.size) throw sizeMismatch(entry, sent);
    };
    if (Buffer.isBuffer(content)) {
      check(content.length);
      yield content;
    } else {
      for await (const chunk of await content()) {
        check((chunk as Buffer).length);
        yield chunk as Buffer;
      }
    }
    if (sent !== entry.size) throw sizeMismatch(entry, sent);
    const pad = padding(entry.size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  for (const entry of plan.folders)
    yield header({ path: `${entry.path}/`, mode: restoredFolderMode(entry.mode), size: 0, type: 'Directory', mtime });
  for (const entry of plan.links)
    yield header({ path: entry.path, linkpath: entry.link!, mode: 0o777, size: 0, type: 'SymbolicLink', mtime });
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

function sizeMismatch(entry: ManifestEntry, sent: number): Error {
  return new UnavailableError(
    `stored content of '${entry.path}' is not the ${entry.size} bytes its manifest says (read ${sent} so far): the archive is cut off here`,
  );
}
