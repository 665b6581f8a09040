import { describe, expect, it } from 'vitest';
import { artifactManifest } from '../../src/server/api/schemas.js';

const D = 'a'.repeat(64);

describe('the artifact manifest a runner sends', () => {
  it('keeps exactly the fields of an entry, whatever else it carries', () => {
    const parsed = artifactManifest.parse({
      artifacts: [
        {
          path: 'out',
          files: [
            { path: 'out/a', size: 3, mode: 0o644, digest: D, extra: 'dropped' },
            { path: 'out/l', size: 0, mode: 0o777, link: 'a' },
          ],
        },
      ],
    });
    expect(parsed.artifacts[0]!.files).toStrictEqual([
      { path: 'out/a', size: 3, mode: 0o644, digest: D },
      { path: 'out/l', size: 0, mode: 0o777, link: 'a' },
    ]);
  });

  it('keeps an empty folder’s entry exactly, and a folder is neither file nor link', () => {
    const parsed = artifactManifest.parse({
      artifacts: [
        {
          path: 'out',
          files: [
            { path: 'out/logs', size: 0, mode: 0o750, folder: true },
            { path: 'out/tmp', size: 0, mode: 0o755, folder: true, extra: 'dropped' },
          ],
        },
      ],
    });
    expect(parsed.artifacts[0]!.files).toStrictEqual([
      { path: 'out/logs', size: 0, mode: 0o750, folder: true },
      { path: 'out/tmp', size: 0, mode: 0o755, folder: true },
    ]);
    for (const bad of [
      { path: 'out/logs', size: 0, mode: 0o755, folder: true, digest: D },
      { path: 'out/logs', size: 0, mode: 0o755, folder: true, link: 'a' },
      { path: 'out/logs', size: 4096, mode: 0o755, folder: true },
      { path: 'out/logs', size: 0, mode: 0o755, folder: false },
      { path: 'out/logs', size: 0, mode: 0o755, folder: 'yes' },
      { path: '../logs', size: 0, mode: 0o755, folder: true },
      { path: 'out/../../logs', size: 0, mode: 0o755, folder: true },
      { path: '/tmp/logs', size: 0, mode: 0o755, folder: true },
    ]) {
      const result = artifactManifest.safeParse({ artifacts: [{ path: 'out', files: [bad] }] });
      expect(result.error?.issues[0]?.path).toEqual(['artifacts', 0, 'files', 0]);
      expect(result.error?.issues[0]?.message).toBe(
        'a manifest entry: path (relative, without ..), size and mode (non-negative integers), and optionally ' +
          'digest (sha256 hex) and link, or folder (true, with size 0 and neither)',
      );
    }
  });

  it('takes names with dots that are not a .. segment, and keeps entries as they came', () => {
    const files = ['out/..x', 'out/a..b', 'out/x..', 'out/.../y'].map((path) => ({
      path,
      size: 1,
      mode: 0o644,
      digest: D,
    }));
    const parsed = artifactManifest.parse({ artifacts: [{ path: 'out', files }] });
    expect(parsed.artifacts[0]!.files).toStrictEqual(files);
    expect(parsed.artifacts[0]!.files[0]).toBe(files[0]); // no copy of an entry with only its own fields
  });

  it('refuses a file list that is not a list', () => {
    const result = artifactManifest.safeParse({ artifacts: [{ path: 'out', files: 'out/a' }] });
    expect(result.error?.issues[0]?.path).toEqual(['artifacts', 0, 'files']);
    expect(result.error?.issues[0]?.message).toBe('a list of manifest entries');
  });

  it('refuses an entry that could lead out of its folder or is malformed, saying which', () => {
    for (const bad of [
      { path: '../x', size: 1, mode: 0o644, digest: D },
      { path: 'out/../../x', size: 1, mode: 0o644, digest: D },
      { path: 'out/..', size: 1, mode: 0o644, digest: D },
      { path: '/etc/passwd', size: 1, mode: 0o644, digest: D },
      { path: '', size: 1, mode: 0o644, digest: D },
      { path: 'out/a', size: -1, mode: 0o644, digest: D },
      { path: 'out/a', size: 1.5, mode: 0o644, digest: D },
      { path: 'out/a', size: 1, mode: '644', digest: D },
      { path: 'out/a', size: 1, mode: 0o644, digest: 'A'.repeat(64) },
      { path: 'out/a', size: 1, mode: 0o644, digest: D, link: 5 },
      null,
    ]) {
      const ok = { path: 'out/ok', size: 1, mode: 0o644, digest: D };
      const result = artifactManifest.safeParse({ artifacts: [{ path: 'out', files: [ok, bad] }] });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['artifacts', 0, 'files', 1]);
      expect(result.error?.issues[0]?.message).toMatch(/^a manifest entry: path \(relative, without \.\.\)/);
    }
  });
});
