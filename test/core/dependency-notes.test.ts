/** What a job's log says of its dependencies' artifacts, placed in its workspace before its commands. */
import { describe, expect, it } from 'vitest';
import { dependencyArtifactNotes } from '../../src/core/dependency-notes.js';
import type { ArtifactManifest } from '../../src/core/records.js';

const job = { ref: 'prepare', id: 'aaaaaaaaaaaa' };
const file = { path: 'data/x', size: 3, mode: 0o644, digest: 'd'.repeat(64) };

describe('dependencyArtifactNotes', () => {
  it('says nothing of a dependency that declares no artifacts, rather than 0 files, 0B', () => {
    expect(dependencyArtifactNotes(job, { artifacts: [] }, { files: 0, bytes: 0 })).toEqual([]);
  });

  it('counts what was placed, empty folders too', () => {
    const manifest: ArtifactManifest = { artifacts: [{ path: 'data', files: [file] }] };
    expect(dependencyArtifactNotes(job, manifest, { files: 1, bytes: 3, folders: 2 })).toEqual([
      'artifacts of prepare (aaaaaaaaaaaa): 1 file, 3B, 2 empty folders',
    ]);
  });

  it('names the artifacts never made, without a count of nothing when none was', () => {
    const none: ArtifactManifest = { artifacts: [{ path: 'model', files: [] }] };
    expect(dependencyArtifactNotes(job, none, { files: 0, bytes: 0 })).toEqual([
      "prepare (aaaaaaaaaaaa) saved nothing for its artifact 'model': it did not exist when that job ended",
    ]);
    const some: ArtifactManifest = {
      artifacts: [{ path: 'data', files: [file] }, ...none.artifacts, { path: 'b', files: [] }],
    };
    expect(dependencyArtifactNotes(job, some, { files: 1, bytes: 3 })).toEqual([
      'artifacts of prepare (aaaaaaaaaaaa): 1 file, 3B',
      "prepare (aaaaaaaaaaaa) saved nothing for its artifacts 'model', 'b': it did not exist when that job ended",
    ]);
  });
});
