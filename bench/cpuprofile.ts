/** Summaries of V8 `.cpuprofile` files (from `node --cpu-prof`): where the time went, by function and by file. */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { REPO } from './util.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  name: string;
  /** Milliseconds spent in the function itself. */
  selfMs: number;
  /** Milliseconds with the function on the stack (each sample counted once per function). */
  totalMs: number;
}

export interface Summary {
  /** Wall-clock span of the profile, ms. */
  wallMs: number;
  /** Samples not idle (not `(idle)`, `(program)` counted apart). */
  busyMs: number;
  functions: Entry[];
  files: Entry[];
}

function where(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(REPO) ? relative(REPO, path) : path.replace(/.*node_modules\//, 'node_modules/');
}

/** Self and total time per function (`name file:line`) and per file, from one profile. */
export async function summarize(file: string): Promise<Summary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnKey = (n: ProfileNode) => {
    const f = n.callFrame;
    const loc = where(f.url);
    return `${f.functionName || '(anonymous)'}${loc ? ` ${loc}:${f.lineNumber + 1}` : ''}`;
  };
  const fileKey = (n: ProfileNode) => where(n.callFrame.url) || n.callFrame.functionName || '(native)';
  const fns = new Map<string, Entry>();
  const files = new Map<string, Entry>();
  const entry = (map: Map<string, Entry>, name: string) => {
    let e = map.get(name);
    if (!e) map.set(name, (e = { name, selfMs: 0, totalMs: 0 }));
    return e;
  };
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (!leaf) return;
    if (leaf.callFrame.functionName !== '(idle)') busy += ms;
    entry(fns, fnKey(leaf)).selfMs += ms;
    entry(files, fileKey(leaf)).selfMs += ms;
    const seenFn = new Set<string>();
    const seenFile = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = fnKey(n);
      const f = fileKey(n);
      if (!seenFn.has(k)) {
        seenFn.add(k);
        entry(fns, k).totalMs += ms;
      }
      if (!seenFile.has(f)) {
        seenFile.add(f);
        entry(files, f).totalMs += ms;
      }
    }
  });
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy,
    functions: [...fns.values()],
    files: [...files.values()],
  };
}

/** The top `n` entries by self time, as text lines. */
export function top(entries: Entry[], n: number, by: 'selfMs' | 'totalMs' = 'selfMs'): string[] {
  return [...entries]
    .filter((e) => !['(root)', '(idle)'].includes(e.name))
    .sort((a, b) => b[by] - a[by])
    .slice(0, n)
    .map((e) => `${e.selfMs.toFixed(0).padStart(7)} ms self ${e.totalMs.toFixed(0).padStart(7)} ms total  ${e.name}`);
}
