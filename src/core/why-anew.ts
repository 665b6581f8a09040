/**
 * Why a job runs anew rather than reusing the last job of its workflow its user ran in the
 * project: what differs between the two, in the terms the cache key counts (cache-key.ts): its
 * variables and the rest of its spec, the code it sees, the jobs that made its dependencies'
 * artifacts, and, when nothing else does, the environment of a job on the host.
 */
import { stableJson, type CodeFile } from './cache-key.js';
import { dependencyLabel, type JobSpec } from './job-spec.js';

/** What a job's cache key was made of. */
export interface KeyFacts {
  spec: JobSpec;
  /** The files it sees (countedCode). */
  code: readonly CodeFile[];
  /** The jobs that made its dependencies' artifacts, in `dependsOn` order. */
  producers: readonly string[];
}

/** Files named before "and N more". */
const NAMED_FILES = 3;

/** What differs, each a short clause (`epochs 30 → 40`, `train.py changed`); none when only the key's environment does. */
export function whyAnew(before: KeyFacts, now: KeyFacts): string[] {
  return [
    ...variableChanges(before.spec.variables, now.spec.variables),
    ...specChanges(before.spec, now.spec),
    ...codeChanges(before.code, now.code),
    ...dependencyChanges(before, now),
  ];
}

function variableChanges(before: Record<string, string>, now: Record<string, string>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
  return names.flatMap((name) => {
    const [was, is] = [before[name], now[name]];
    if (was === is) return [];
    if (was === undefined) return [`variable ${name} set (${is})`];
    if (is === undefined) return [`variable ${name} unset (was ${was})`];
    return [`variable ${name} ${was} → ${is}`];
  });
}

/** Labels of the spec's fields that count for the key, as a user wrote them. */
const FIELDS: Partial<Record<keyof JobSpec, string>> = {
  commands: 'its commands',
  env: 'its environment',
  image: 'its image',
  params: "its provider's parameters",
  artifacts: 'its artifacts',
  provider: 'its provider',
  workingDir: 'its working dir',
  inputs: 'its inputs',
};

function specChanges(before: JobSpec, now: JobSpec): string[] {
  // Resources and the ref do not count; variables and dependencies are said apart.
  const skip = new Set(['resources', 'ref', 'variables', 'dependsOn']);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => !skip.has(k)).sort();
  const back = backToOld(before.variables, now.variables);
  return keys.flatMap((key) => {
    const [was, is] = [stableJson(before[key as keyof JobSpec]), stableJson(now[key as keyof JobSpec])];
    // `--seed $seed` with seed 7 for 42: the variable's change, said already.
    if (was === is || was === back(is)) return [];
    return [`${FIELDS[key as keyof JobSpec] ?? `its ${key}`} changed`];
  });
}

/** `text` with each changed variable's new value put back to its old one (`7` → `42`). */
function backToOld(before: Record<string, string>, now: Record<string, string>): (text: string) => string {
  const changed = Object.keys(now).filter((name) => before[name] !== undefined && before[name] !== now[name]);
  return (text) => {
    for (const name of changed)
      text = text.replaceAll(JSON.stringify(now[name]!).slice(1, -1), JSON.stringify(before[name]!).slice(1, -1));
    return text;
  };
}

function codeChanges(before: readonly CodeFile[], now: readonly CodeFile[]): string[] {
  const seen = (f: CodeFile) => ('link' in f ? `->${f.link}` : `${f.digest}:${(f.mode & 0o111) !== 0}`);
  const was = new Map(before.map((f) => [f.path, seen(f)]));
  const is = new Map(now.map((f) => [f.path, seen(f)]));
  const changed = [...is].filter(([path, what]) => was.has(path) && was.get(path) !== what).map(([path]) => path);
  const added = [...is.keys()].filter((path) => !was.has(path));
  const removed = [...was.keys()].filter((path) => !is.has(path));
  return [named(changed, 'changed'), named(added, 'added'), named(removed, 'removed')].flatMap((s) => s ?? []);
}

function named(paths: string[], what: string): string | undefined {
  if (paths.length === 0) return undefined;
  const shown = paths.sort().slice(0, NAMED_FILES).join(', ');
  const more = paths.length > NAMED_FILES ? ` and ${paths.length - NAMED_FILES} more` : '';
  return `${shown}${more} ${what}`;
}

function dependencyChanges(before: KeyFacts, now: KeyFacts): string[] {
  if (before.producers.length !== now.producers.length) return ['its dependencies changed'];
  return now.spec.dependsOn.flatMap((dep, i) => {
    // The key counts each item as written too: `prepare` → `prepare:latest` is another key
    // even when the tagged run's job is the one that ran before.
    const was = before.spec.dependsOn[i];
    const label = dependencyLabel(dep);
    if (was && dependencyLabel(was) !== label) return [`depends-on ${dependencyLabel(was)} → ${label}`];
    if (before.producers[i] === now.producers[i]) return [];
    return [`${label} gives other artifacts`];
  });
}
