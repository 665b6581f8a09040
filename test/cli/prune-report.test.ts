/** `dstack prune`'s answer: what went, whose, and why the runs it kept stay. */
import { describe, expect, it } from 'vitest';
import { olderServerWarning, pruneReport } from '../../src/cli/commands/tags.js';

const base = { runs: ['a-b-1', 'a-b-2'], blobs: 3, bytes: 2048, project: '/p' };

describe('pruneReport', () => {
  it('names the runs kept for the runs that use them, counting another user’s run without naming it', () => {
    const report = pruneReport({
      ...base,
      dryRun: true,
      keptReused: [{ run: 'old-1', by: 'new-2' }, { run: 'old-3' }],
      otherUsers: ['bob'],
    });
    expect(report).toBe(
      'would prune 2 runs of project /p (a-b-1, a-b-2), 3 blobs (2.0KB; those from the last hour stay) ' +
        '(a dry run: nothing was deleted)\n' +
        "runs of other users among them (bob): an admin prunes every user's runs\n" +
        'kept 2 runs whose jobs kept runs reuse from the cache or depend on ' +
        "(old-1, used by new-2; old-3, used by another user's run): they go once those runs are pruned\n",
    );
  });

  it('says every project when it pruned them all, and the temp files it removed', () => {
    const { project: _, ...everywhere } = base;
    const report = pruneReport({ ...everywhere, runs: [], leftovers: { files: 1, bytes: 10 }, keptStopped: ['s-1'] });
    expect(report).toBe(
      'pruned 0 runs of every project, 3 blobs (2.0KB; those from the last hour stay), 1 temp file of interrupted uploads (10B)\n' +
        'kept 1 resumable run (s-1): it can be resumed (dstack resume RUN); --include-stopped prunes it too\n',
    );
  });

  it('names the first ten runs of each list and counts the rest: a big prune is a line, not hundreds of KB', () => {
    const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
    const report = pruneReport({
      ...base,
      runs: names('solid-swan', 290),
      keptStopped: names('paused', 11),
      keptReused: names('old', 12).map((run) => ({ run, by: 'new-1' })),
    });
    const [pruned, reused, stopped] = report.split('\n');
    expect(pruned).toBe(
      `pruned 290 runs of project /p (${names('solid-swan', 10).join(', ')}, and 280 more (--json lists them all)), ` +
        '3 blobs (2.0KB; those from the last hour stay)',
    );
    expect(reused).toBe(
      'kept 12 runs whose jobs kept runs reuse from the cache or depend on ' +
        `(${names('old', 10)
          .map((run) => `${run}, used by new-1`)
          .join('; ')}; and 2 more (--json lists them all)): ` +
        'they go once those runs are pruned',
    );
    expect(stopped).toBe(
      `kept 11 resumable runs (${names('paused', 10).join(', ')}, and 1 more (--json lists them all)): ` +
        'they can be resumed (dstack resume RUN); --include-stopped prunes them too',
    );
    // Ten or fewer: all named, nothing counted.
    expect(pruneReport({ ...base, runs: names('r', 10) })).toContain(`(${names('r', 10).join(', ')}), 3 blobs`);
  });

  it('shows a project key (a folder) with control characters escaped', () => {
    const report = pruneReport({ ...base, project: '/p\x1b[31m\nq' });
    expect(report.split('\n')[0]).toMatch(/^pruned 2 runs of project \/p\\x1b\[31m\\nq \(a-b-1, a-b-2\), /);
  });

  it('warns when a server that predates projects in prune took every project’s runs', () => {
    const { project: _, ...older } = base;
    expect(olderServerWarning('/p', older)).toBe(
      "warning: the server does not prune by project (an older version): it took every project's runs\n",
    );
    expect(olderServerWarning('/p', base)).toBeUndefined();
    expect(olderServerWarning(undefined, older)).toBeUndefined();
  });
});
