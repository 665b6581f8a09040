/**
 * What a job's log says of each dependency's artifacts placed in its workspace, before its
 * commands run. A dependency that declares none (one waited on for its order) is not named: a
 * line `0 files, 0B` read as a download that went wrong.
 */
import type { ArtifactManifest } from './records.js';
import { filesAndSize } from './resources.js';

/** What was placed: as the download counted it. */
export interface PlacedStats {
  files: number;
  bytes: number;
  folders?: number;
}

/** The log's notes for dependency `job` (its ref and id) whose `manifest` was placed as `stats` say. */
export function dependencyArtifactNotes(
  job: { ref: string; id: string },
  manifest: ArtifactManifest,
  stats: PlacedStats,
): string[] {
  const notes: string[] = [];
  const placed = stats.files > 0 || (stats.folders ?? 0) > 0;
  if (placed)
    notes.push(`artifacts of ${job.ref} (${job.id}): ${filesAndSize(stats.files, stats.bytes, stats.folders)}`);
  const unsaved = neverMade(manifest);
  if (unsaved) notes.push(`${job.ref} (${job.id}) saved nothing for ${unsaved}: it did not exist when that job ended`);
  return notes;
}

/**
 * The artifacts a dependency declared and never made (`its artifact 'data'`), in words: said up
 * front, rather than left to the job's first `No such file or directory`. An empty folder it
 * made has an entry, so an artifact without any did not exist.
 */
function neverMade(manifest: ArtifactManifest): string | undefined {
  const paths = manifest.artifacts.filter((a) => a.files.length === 0).map((a) => `'${a.path}'`);
  if (paths.length === 0) return undefined;
  return `${paths.length === 1 ? 'its artifact' : 'its artifacts'} ${paths.join(', ')}`;
}
