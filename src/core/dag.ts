/** Dependency graphs of workflows: the closure a run needs, in order, with cycles named. */

export interface Edges {
  /** The names this node depends on (inside the graph). */
  (name: string): readonly string[];
}

export type ClosureResult = { ok: true; order: string[] } | { ok: false; cycle: string[] };

/**
 * Every node reachable from `target`, dependencies before dependents (a stable
 * post-order: dependencies in the order they are written). A cycle is returned as
 * the path that closes it: `['a', 'b', 'a']`.
 */
export function closure(target: string, edges: Edges): ClosureResult {
  const order: string[] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const onPathSet = new Set<string>();

  // Iterative DFS so that a 10,000-deep chain does not overflow the stack.
  const stack: { name: string; next: number }[] = [{ name: target, next: 0 }];
  onPath.push(target);
  onPathSet.add(target);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const deps = edges(frame.name);
    if (frame.next < deps.length) {
      const dep = deps[frame.next++]!;
      if (done.has(dep)) continue;
      if (onPathSet.has(dep)) return { ok: false, cycle: [...onPath.slice(onPath.indexOf(dep)), dep] };
      stack.push({ name: dep, next: 0 });
      onPath.push(dep);
      onPathSet.add(dep);
      continue;
    }
    stack.pop();
    onPath.pop();
    onPathSet.delete(frame.name);
    done.add(frame.name);
    order.push(frame.name);
  }
  return { ok: true, order };
}
