/** A job's artifacts as the dashboard's tree: folders first, sizes summed. */
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
});
