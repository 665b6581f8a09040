/**
 * Placing a run's jobs for drawing: each job in the column after its deepest dependency
 * (left to right). An edge that skips columns passes through a free slot in each column it
 * crosses (a "dummy" node, as in Sugiyama's method), so it never runs through a box. Rows
 * are ordered by where their predecessors sit, so that edges cross little. Pure: positions
 * in pixels, the component only draws them.
 */

export interface DagInput {
  id: string;
  /** Ids this node waits for; ids not among the inputs become external nodes in column 0. */
  deps: readonly string[];
}

export interface PlacedNode {
  id: string;
  column: number;
  row: number;
  x: number;
  y: number;
  /** Not a node of the input: a dependency from elsewhere (a tagged run's job). */
  external: boolean;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** SVG path from the right edge of `from` to the left edge of `to`. */
  path: string;
}

export interface DagLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** Node box size and gaps, px. */
export const NODE = { width: 200, height: 58, gapX: 64, gapY: 22, margin: 8 };

interface Slot {
  id: string;
  /** What it hangs from in the previous columns, for ordering. */
  preds: string[];
  dummy: boolean;
}

export function layoutDag(inputs: readonly DagInput[]): DagLayout {
  const byId = new Map(inputs.map((n) => [n.id, n]));
  const externals = [...new Set(inputs.flatMap((n) => n.deps))].filter((id) => !byId.has(id));
  const columnOf = columns(inputs, externals);

  // Slots per column: the nodes, then one dummy per column an edge crosses.
  const slots: Slot[][] = [];
  const add = (c: number, slot: Slot) => (slots[c] ??= []).push(slot);
  for (const id of externals) add(0, { id, preds: [], dummy: false });
  const routes = new Map<string, string[]>(); // edge key → dummy ids, left to right
  const preds = new Map<string, string[]>(inputs.map((n) => [n.id, []]));
  for (const n of inputs) {
    for (const dep of n.deps) {
      const via: string[] = [];
      let prev = dep;
      for (let c = columnOf.get(dep)! + 1; c < columnOf.get(n.id)!; c++) {
        const id = `${dep}>${n.id}@${c}`;
        add(c, { id, preds: [prev], dummy: true });
        via.push(id);
        prev = id;
      }
      routes.set(`${dep}>${n.id}`, via);
      preds.get(n.id)!.push(prev);
    }
  }
  for (const n of inputs) add(columnOf.get(n.id)!, { id: n.id, preds: preds.get(n.id)!, dummy: false });

  // One barycentre pass, left to right; plan order (nodes before dummies) breaks ties.
  const rowOf = new Map<string, number>();
  slots.forEach((column, c) => {
    const keyed = column.map((slot, i) => {
      const placed = slot.preds.filter((p) => rowOf.has(p));
      const key = c === 0 || placed.length === 0 ? i : placed.reduce((s, p) => s + rowOf.get(p)!, 0) / placed.length;
      return { slot, key, i: slot.dummy ? i + column.length : i };
    });
    keyed.sort((a, b) => a.key - b.key || a.i - b.i);
    keyed.forEach((k, row) => rowOf.set(k.slot.id, row));
    slots[c] = keyed.map((k) => k.slot);
  });

  const tallest = Math.max(0, ...slots.map((column) => column.length));
  const height = NODE.margin * 2 + tallest * NODE.height + Math.max(0, tallest - 1) * NODE.gapY;
  const width = NODE.margin * 2 + slots.length * NODE.width + Math.max(0, slots.length - 1) * NODE.gapX;
  const at = new Map<string, { x: number; y: number }>();
  const nodes: PlacedNode[] = [];
  slots.forEach((column, c) => {
    // Shorter columns are centred vertically.
    const top = (height - column.length * NODE.height - (column.length - 1) * NODE.gapY) / 2;
    column.forEach((slot, row) => {
      const x = NODE.margin + c * (NODE.width + NODE.gapX);
      const y = top + row * (NODE.height + NODE.gapY);
      at.set(slot.id, { x, y });
      if (!slot.dummy) nodes.push({ id: slot.id, column: c, row, x, y, external: !byId.has(slot.id) });
    });
  });

  const edges: PlacedEdge[] = [];
  for (const n of inputs) {
    for (const dep of n.deps) {
      const via = routes.get(`${dep}>${n.id}`)!.map((id) => at.get(id)!);
      edges.push({ from: dep, to: n.id, path: route(at.get(dep)!, via, at.get(n.id)!) });
    }
  }
  return { nodes, edges, width, height };
}

/** Columns by longest path from a root; dependencies from elsewhere take column 0. */
function columns(inputs: readonly DagInput[], externals: string[]): Map<string, number> {
  const byId = new Map(inputs.map((n) => [n.id, n]));
  const column = new Map<string, number>(externals.map((id) => [id, 0]));
  const first = externals.length > 0 ? 1 : 0;
  const visiting = new Set<string>(); // a plan has no cycle; this only keeps a bad one from recursing forever
  const depth = (id: string): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    if (!node || visiting.has(id)) return first;
    visiting.add(id);
    const d = node.deps.length === 0 ? first : Math.max(...node.deps.map((dep) => depth(dep) + 1));
    visiting.delete(id);
    column.set(id, d);
    return d;
  };
  for (const n of inputs) depth(n.id);
  return column;
}

type Point = { x: number; y: number };

/** From the right of `from`, through each crossed slot (straight across it), to the left of `to`. */
function route(from: Point, via: Point[], to: Point): string {
  const mid = NODE.height / 2;
  let path = `M${from.x + NODE.width},${from.y + mid}`;
  let x = from.x + NODE.width;
  let y = from.y + mid;
  for (const p of [...via, to]) {
    const bend = Math.max(24, (p.x - x) / 2);
    path += ` C${x + bend},${y} ${p.x - bend},${p.y + mid} ${p.x},${p.y + mid}`;
    x = p.x;
    y = p.y + mid;
    if (p !== to) {
      path += ` L${p.x + NODE.width},${y}`;
      x = p.x + NODE.width;
    }
  }
  return path;
}
