/** Placing a run's jobs: columns by dependency depth, and edges that never cross a box. */
import { describe, expect, it } from 'vitest';
import { layoutDag, NODE } from '../../web/src/lib/dag-layout.js';

const column = (layout: ReturnType<typeof layoutDag>, id: string) => layout.nodes.find((n) => n.id === id)!.column;

describe('layoutDag', () => {
  it('puts each job one column after its deepest dependency', () => {
    const layout = layoutDag([
      { id: 'prepare', deps: [] },
      { id: 'features', deps: ['prepare'] },
      { id: 'train', deps: ['prepare', 'features'] },
      { id: 'lint', deps: [] },
    ]);
    expect(['prepare', 'features', 'train', 'lint'].map((id) => column(layout, id))).toEqual([0, 1, 2, 0]);
    expect(layout.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual([
      'features>train',
      'prepare>features',
      'prepare>train',
    ]);
    expect(layout.width).toBe(NODE.margin * 2 + 3 * NODE.width + 2 * NODE.gapX);
  });

  it('routes an edge that skips a column through a free slot, not through the box in between', () => {
    const layout = layoutDag([
      { id: 'prepare', deps: [] },
      { id: 'features', deps: ['prepare'] },
      { id: 'train', deps: ['prepare', 'features'] },
    ]);
    const features = layout.nodes.find((n) => n.id === 'features')!;
    const skip = layout.edges.find((e) => e.from === 'prepare' && e.to === 'train')!;
    // The straight stretch across column 1 is at a height outside the features box.
    const across = /L(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)/.exec(skip.path)!;
    const y = Number(across[2]);
    expect(y < features.y || y > features.y + NODE.height).toBe(true);
    // Two slots in column 1 make the graph two rows tall.
    expect(layout.height).toBe(NODE.margin * 2 + 2 * NODE.height + NODE.gapY);
  });

  it('draws a dependency on another run as an external node in the first column', () => {
    const layout = layoutDag([{ id: 'train', deps: ['0123456789ab'] }]);
    expect(layout.nodes.map((n) => [n.id, n.column, n.external])).toEqual([
      ['0123456789ab', 0, true],
      ['train', 1, false],
    ]);
    expect(layout.edges).toHaveLength(1);
  });

  it('orders a column by where its dependencies sit, to keep edges from crossing', () => {
    const layout = layoutDag([
      { id: 'a', deps: [] },
      { id: 'b', deps: [] },
      { id: 'after-b', deps: ['b'] },
      { id: 'after-a', deps: ['a'] },
    ]);
    const row = (id: string) => layout.nodes.find((n) => n.id === id)!.row;
    expect([row('a'), row('b'), row('after-a'), row('after-b')]).toEqual([0, 1, 0, 1]);
  });

  it('survives a cycle (which a plan never has) without recursing forever', () => {
    const layout = layoutDag([
      { id: 'x', deps: ['y'] },
      { id: 'y', deps: ['x'] },
    ]);
    expect(layout.nodes).toHaveLength(2);
  });
});
