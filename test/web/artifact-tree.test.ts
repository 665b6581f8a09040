/** A job's artifacts as the dashboard's tree: folders first, sizes summed, empty folders shown. */
import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/core/records.js';
import { artifactTree, type TreeNode } from '../../web/src/lib/artifact-tree.js';

const file = (path: string, size: number): ManifestEntry => ({ path, size, mode: 0o644, digest: 'a'.repeat(64) });
const outline = (node: TreeNode, depth = 0): string[] => [
  `${'  '.repeat(depth)}${node.name}${node.entry ? '' : '/'} ${node.size}`,
  ...node.children.flatMap((c) => outline(c, depth + 1)),
];

describe('artifactTree', () => {
  it('nests files under their artifact, folders first, and sums sizes', () => {
    const tree = artifactTree({
      artifacts: [
        {
          path: 'checkpoint',
          files: [file('checkpoint/z.bin', 5), file('checkpoint/run/b.pt', 10), file('checkpoint/run/a.pt', 20)],
        },
        { path: 'model.bin', files: [file('model.bin', 7)] },
        { path: 'empty', files: [] },
      ],
    });
    expect(tree.flatMap((n) => outline(n))).toEqual([
      'checkpoint/ 35',
      '  run/ 30',
      '    a.pt 20',
      '    b.pt 10',
      '  z.bin 5',
      'model.bin 7',
      'empty/ 0',
    ]);
    expect(tree[0]!.files).toBe(3);
    expect(tree[0]!.children[0]!.path).toBe('checkpoint/run');
  });

  it('shows an empty folder’s entry as a folder with nothing in it, the artifact’s own too', () => {
    const folder = (path: string): ManifestEntry => ({ path, size: 0, mode: 0o755, folder: true });
    const tree = artifactTree({
      artifacts: [
        { path: 'tools', files: [file('tools/bin.txt', 2), folder('tools/cache/a'), folder('tools/logs')] },
        { path: 'out', files: [folder('out')] },
        // An absolute artifact's entries are named from the container's root.
        { path: '/opt/env', files: [file('opt/env/bin/python', 3), folder('opt/env/tmp')] },
      ],
    });
    expect(tree.flatMap((n) => outline(n))).toEqual([
      'tools/ 2',
      '  cache/ 0',
      '    a/ 0',
      '  logs/ 0',
      '  bin.txt 2',
      'out/ 0',
      '/opt/env/ 3',
      '  bin/ 3',
      '    python 3',
      '  tmp/ 0',
    ]);
    expect(tree[0]!.children[0]!.children[0]!.path).toBe('tools/cache/a');
    expect(tree[0]!.files).toBe(1);
  });
});
