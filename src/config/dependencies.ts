/**
 * `depends-on:` (and the later `deps:`) into DependencyConfig. Accepted item forms:
 * `prepare`, `prepare:latest`, `:latest` (tag only), `{prepare: latest}`,
 * `{workflow: prepare}`, `{tag: latest}`, `{workflow: prepare, tag: latest}`; and the
 * earliest form, a mapping `{workflows: [...], repo: {include: [globs]}}`.
 */
import { dependencyHasVariables, dependencyOf, dependencyProblem } from '../core/dependencies.js';
import type { DependencyConfig } from '../core/workflow.js';
import type { WorkflowContext } from './workflow-context.js';
import type { RawDependencies } from './workflow-schema.js';
import type { Path } from './yaml-source.js';

export interface ReadDependencies {
  dependsOn: DependencyConfig[];
  /** `repo.include` globs of the mapping form: they narrow what counts for the cache, as `inputs:` does. */
  inputs: { glob: string; path: Path }[];
}

/**
 * Read the dependencies written under `key`. Locations are recorded under `depends-on`
 * and `depends-on.N` whichever key was used, because that is what the planner asks for.
 * A tag-only dependency (`:latest`, `{tag: latest}`) is `{tag}`: every job of the tagged run.
 * An item that uses variables is kept as written, and checked by the planner once they are substituted.
 */
export function readDependencies(ctx: WorkflowContext, raw: RawDependencies, key: string): ReadDependencies {
  ctx.record('depends-on', [key]);
  const result: ReadDependencies = { dependsOn: [], inputs: [] };
  const items = Array.isArray(raw)
    ? raw.map((item, i) => ({ item, path: [key, i] }))
    : (raw.workflows ?? []).map((item, i) => ({ item, path: [key, 'workflows', i] }));
  if (!Array.isArray(raw)) {
    (raw.repo?.include ?? []).forEach((glob, i) => result.inputs.push({ glob, path: [key, 'repo', 'include', i] }));
  }
  items.forEach(({ item, path }, n) => {
    ctx.record(`depends-on.${n}`, path);
    result.dependsOn.push(readDependency(ctx, item, path));
  });
  return result;
}

function readDependency(
  ctx: WorkflowContext,
  item: string | Record<string, string | null>,
  path: Path,
): DependencyConfig {
  let workflow: string;
  let tag: string | undefined;
  if (typeof item === 'string') {
    const colon = item.indexOf(':');
    workflow = (colon < 0 ? item : item.slice(0, colon)).trim();
    tag = colon < 0 ? undefined : item.slice(colon + 1).trim();
  } else {
    const keys = Object.keys(item);
    if (keys.length > 0 && keys.every((k) => k === 'workflow' || k === 'tag')) {
      workflow = (item.workflow ?? '').trim();
      tag = 'tag' in item ? (item.tag ?? '').trim() : undefined;
    } else if (keys.length === 1) {
      // `- download-data: train_val_test`, the mapping spelling of `download-data:train_val_test`.
      const only = keys[0]!;
      workflow = only.trim();
      tag = (item[only] ?? '').trim();
    } else {
      return ctx.fail(
        `${ctx.subject(path)} must be 'name', 'name:tag', or a mapping {workflow, tag}, not a mapping with ${keys.length} keys`,
        path,
      );
    }
  }
  const written = typeof item === 'string' ? item : `${workflow}:${tag ?? ''}`;
  const dep = dependencyOf(workflow, tag);
  if (dependencyHasVariables(dep)) return dep;
  const problem = dependencyProblem(workflow, tag, written);
  if (problem !== undefined) ctx.fail(`${ctx.subject(path)} ${problem}`, path);
  return dep;
}
