/**
 * Writing manifests' files under a folder from the blob store: packed, direct or streamed, each
 * verified; or copied from the store's folder when it is on this machine (files/local-copy.ts).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, lstatSync, readlinkSync } from 'node:fs';
import { chmod, realpath, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../client/api-client.js';
import { errorFromResponse } from '../client/errors.js';
import { SMALL_BLOB } from '../core/blob-api.js';
import { forEachLimit } from '../core/concurrency.js';
import { InvalidError, UnavailableError } from '../core/errors.js';
import { restoredFileMode, restoredFolderMode } from '../core/file-modes.js';
import type { ManifestEntry } from '../core/records.js';
import type { BlobCache } from './blob-cache.js';
import { type LinkAt, linkLanding } from './link-resolution.js';
import { copyFromStore } from './local-copy.js';
import { SMALL_FILE } from './raw-fs.js';
import { digestOfParts } from './file-job-calls.js';
import { joinParts, PACK_ERROR, readPack } from './pack.js';
import { isInside, normalizeRelative } from './safe-path.js';
import { SafeWriter } from './safe-writer.js';
import {
  CONCURRENCY,
  counter,
  type Counts,
  packsOf,
  retriedPart,
  tracker,
  type TransferOptions,
  type TransferStats,
  type TransferTask,
} from './transfer-parts.js';

/** Downloads of up to this many bytes in all write their files in place (raw-fs.ts). */
const SMALL_DOWNLOAD = 1 << 20;

/** Write `content` to `target`, failing (and removing it) unless it hashes to `digest`; `signal` cuts it short. */
async function writeVerified(
  content: Readable,
  target: string,
  entry: ManifestEntry,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
) {
  const hash = createHash('sha256');
  const file = createWriteStream(target, { mode: restoredFileMode(entry.mode) });
  await pipeline(content, counter(onBytes, hash), file, ...(signal ? [{ signal }] : []));
  const actual = hash.digest('hex');
  if (actual !== entry.digest) {
    await rm(target, { force: true });
    throw new InvalidError(
      `downloaded '${entry.path}' does not match its digest (expected ${entry.digest}, got ${actual})`,
    );
  }
}

/**
 * The link at a path under `root` once `entries` are written: a link of theirs, none where they
 * write a file or folder (a link there is replaced), else whatever is on disk now.
 */
function restoredLinkAt(root: string, entries: readonly ManifestEntry[]): LinkAt {
  const links = new Map(entries.flatMap((e) => (e.link === undefined ? [] : [[normalizeRelative(e.path), e.link]])));
  if (links.size === 0) return () => undefined;
  const written = new Set(entries.flatMap((e) => (e.link === undefined ? [normalizeRelative(e.path)] : [])));
  return (path) => links.get(path) ?? (written.has(path) ? undefined : linkOnDisk(join(root, path)));
}

/** The target of the link at `path`, undefined when there is none (nothing there, or not a link). */
function linkOnDisk(path: string): string | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined; // a file on the way
    throw e;
  }
}

/**
 * Write `entries` under `root` from the blob store, refusing any path that would leave it.
 * Regular files first, then empty folders, then symlinks: no file or folder is ever written
 * through a link of the same download.
 */
export async function downloadFiles(
  client: ApiClient,
  root: string,
  entries: readonly ManifestEntry[],
  /** `cache`: small blobs to take from memory rather than the server, and to keep those fetched. */
  options: TransferOptions & { cache?: BlobCache } = {},
): Promise<TransferStats> {
  // Every path and link is checked before anything is fetched: a bad manifest writes nothing.
  // A link is followed as the kernel will, through the manifest's other links and those on disk.
  const linkAt = restoredLinkAt(root, entries);
  for (const e of entries) {
    const path = normalizeRelative(e.path);
    if (e.link !== undefined && linkLanding(path, e.link, linkAt) === undefined) {
      throw new InvalidError(`symlink '${e.path}' -> '${e.link}' would lead out of ${root}`);
    }
  }
  const files = entries.filter((e) => e.link === undefined && !e.folder && e.digest !== undefined);
  const folders = entries.filter((e) => e.link === undefined && e.folder);
  const links = entries.filter((e) => e.link !== undefined);
  const byDigest = new Map<string, ManifestEntry[]>();
  for (const e of files) byDigest.set(e.digest!, [...(byDigest.get(e.digest!) ?? []), e]);
  const totalBytes = files.reduce((n, e) => n + e.size, 0);
  const track = tracker(files.length, totalBytes, options);
  const { signal } = options;
  // A small download (a job's code, a step's small outputs) is written in place whatever its
  // files' sizes: its few pool trips would each wait behind the rest of the loop's work.
  const writer = new SafeWriter(root, totalBytes <= SMALL_DOWNLOAD ? SMALL_DOWNLOAD : SMALL_FILE);
  let requests = 0;

  /** The first path gets the content; the others (same content) are copies of it. */
  const copies = async (first: ManifestEntry, rest: ManifestEntry[], counts: Counts) => {
    for (const e of rest) {
      // The first was written with exactly its recorded mode.
      await writer.copyFile(join(root, first.path), restoredFileMode(first.mode), e.path, restoredFileMode(e.mode));
      counts.file(e.size);
    }
  };

  let groups = [...byDigest.values()];
  let copied = 0;
  if (client.localBlobs) {
    // A runner's memory of small blobs is filled on the fetch path: with one, small blobs stay
    // on it, unless there are more of them than it holds (a dependency's dataset, not a run's
    // code): then every blob is copied.
    const small = groups.reduce((n, g) => (g[0]!.size < SMALL_BLOB ? n + g[0]!.size : n), 0);
    const cache = options.cache;
    const copyable = (g: ManifestEntry[]) => !cache || g[0]!.size >= SMALL_BLOB || small > cache.budget;
    const left = await copyFromStore(
      client.localBlobs,
      groups.filter(copyable),
      writer,
      (bytes) => {
        copied++;
        track.file(bytes);
      },
      signal,
    );
    groups = [...groups.filter((g) => !copyable(g)), ...left];
  }
  const small = groups.filter((g) => g[0]!.size < SMALL_BLOB);
  const big = groups.filter((g) => g[0]!.size >= SMALL_BLOB);
  const tasks: TransferTask[] = [
    ...big.map((group) => ({
      what: `download of ${group[0]!.path}`,
      run: async (counts: Counts) => {
        const [first, ...rest] = group as [ManifestEntry, ...ManifestEntry[]];
        const content = await client.openBlob(first.digest!, signal);
        requests++;
        const target = await writer.replace(first.path);
        await writeVerified(content, target, first, (n) => counts.bytes(n), signal).catch(async (e: unknown) => {
          throw await writer.blocked(first.path, e);
        });
        await chmod(target, restoredFileMode(first.mode)); // the recorded permission bits, whatever the umask
        counts.file();
        await copies(first, rest, counts);
      },
    })),
    ...packsOf(small.map((g) => ({ group: g, size: g[0]!.size }))).map((pack) => ({
      what: 'POST /api/blobs/pack/get',
      run: async (counts: Counts) => {
        const wanted = new Map(pack.map(({ group }) => [group[0]!.digest!, group]));
        // The pack is read in order; its files are written several at a time (small files are latency-bound).
        const writes = new Set<Promise<void>>();
        let failure: unknown;
        const write = async (data: Buffer | readonly Buffer[], group: ManifestEntry[]) => {
          const [first, ...rest] = group as [ManifestEntry, ...ManifestEntry[]];
          await writer.writeFile(first.path, data, restoredFileMode(first.mode));
          counts.file(first.size);
          await copies(first, rest, counts);
        };
        const queue = async (data: Buffer | readonly Buffer[], group: ManifestEntry[]) => {
          const task: Promise<void> = write(data, group)
            .catch((e: unknown) => void (failure ??= e))
            .finally(() => writes.delete(task));
          writes.add(task);
          if (writes.size >= 16) await Promise.race(writes);
          if (failure) throw failure;
        };
        try {
          for (const [digest, group] of wanted) {
            const data = options.cache?.get(digest);
            if (data === undefined) continue;
            wanted.delete(digest);
            await queue(data, group);
          }
          if (wanted.size > 0) {
            requests++;
            for await (const blob of readPack(await client.getPack([...wanted.keys()], signal))) {
              if (blob.name === PACK_ERROR) throw packError(joinParts(blob.parts).toString());
              const group = wanted.get(blob.name);
              if (!group) throw new InvalidError(`the server sent blob ${blob.name}, which was not asked for`);
              if (digestOfParts(blob.parts) !== blob.name)
                throw new InvalidError(`downloaded blob ${blob.name} does not match its digest`);
              wanted.delete(blob.name);
              // Written as the chunks it came in; joined into one buffer only to be kept.
              if (options.cache) {
                const whole = joinParts(blob.parts);
                options.cache.set(blob.name, whole);
                await queue(whole, group);
              } else await queue(blob.parts, group);
            }
          }
        } finally {
          await Promise.all(writes);
        }
        if (failure) throw failure;
        if (wanted.size > 0) throw new InvalidError(`the server's pack lacks ${wanted.size} of the blobs asked for`);
      },
    })),
  ];
  // A task dropped with its connection starts over (a runner's client retries; the CLI's does not).
  await forEachLimit(
    tasks,
    CONCURRENCY,
    (task) => (signal?.throwIfAborted(), retriedPart(client, track, task, signal, options.retries)),
  );

  // At least 0700, as files get 0600: the job, and whoever removes its workspace, writes into them.
  for (const entry of folders) await writer.makeFolder(entry.path, restoredFolderMode(entry.mode));
  const stats: TransferStats = {
    files: files.length,
    bytes: totalBytes,
    requests,
    ...(copied > 0 && { copied }),
    ...(folders.length > 0 && { folders: folders.length }),
  };
  if (links.length === 0) return stats;
  // Checked again where the link really lands: earlier links may have moved its folder.
  const realRoot = await realpath(root);
  for (const entry of links) {
    const target = await writer.replace(entry.path);
    if (!isInside(realRoot, resolve(await realpath(dirname(target)), entry.link!))) {
      throw new InvalidError(`symlink '${entry.path}' -> '${entry.link}' would lead out of ${root}`);
    }
    await symlink(entry.link!, target).catch(async (e: unknown) => {
      throw await writer.blocked(entry.path, e);
    });
  }
  return { ...stats, files: files.length + links.length };
}

/**
 * The error a server put in a pack it cut off, as the answer it would have been: an outage of
 * its storage reads (and is retried) as any 503, `a service this server uses is unreachable (…)`,
 * not as the storage client's own words. Others say the pack was cut off.
 */
export function packError(content: string): Error {
  let answer: { status?: unknown; error?: { code?: unknown } } | undefined;
  try {
    answer = JSON.parse(content) as typeof answer;
  } catch {
    // A server before the answer went in the pack: its message alone.
  }
  if (typeof answer?.status !== 'number' || typeof answer.error?.code !== 'string')
    return new UnavailableError(`the server cut off a pack: ${content}`);
  const error = errorFromResponse(answer.status, answer);
  if (error instanceof UnavailableError) return error;
  error.message = `the server cut off a pack: ${error.message}`;
  return error;
}
