/**
 * One `depends-on` item's meaning, checked where it is known: when the file is read for an item
 * written plainly (config/dependencies.ts), and once the run's variables are substituted for one
 * that uses them (`p:${{ tag }}`, `${{ dep }}`), when the run is planned.
 */
import { TAG_NAME, TAG_RULE } from './tags.js';
import { WORKFLOW_NAME, type DependencyConfig } from './workflow.js';

/** Whether the item uses variables: it is checked once they are substituted. */
export function dependencyHasVariables(dep: DependencyConfig): boolean {
  return (dep.workflow?.includes('$') ?? false) || (dep.tag?.includes('$') ?? false);
}

/**
 * Why an item of `workflow` and `tag` (trimmed) is no dependency, as the end of a sentence
 * naming the item; undefined when it is one. `written`: the item as written.
 */
export function dependencyProblem(workflow: string, tag: string | undefined, written: string): string | undefined {
  if (tag === '') return `('${written}') has an empty tag: write 'name' or 'name:tag'`;
  // Checked here, not only by the server: no run can hold such a tag, so it would say the tag does not exist.
  if (tag !== undefined && !TAG_NAME.test(tag))
    return `has the tag '${tag}', which is not a valid tag name: use ${TAG_RULE}`;
  if (workflow === '' && tag === undefined) return 'names no workflow';
  if (workflow !== '' && !WORKFLOW_NAME.test(workflow))
    return `names '${workflow}', which is not a valid workflow name`;
  return undefined;
}

/** The item from its parts; `dependencyProblem` has found nothing wrong with them. */
export function dependencyOf(workflow: string, tag: string | undefined): DependencyConfig {
  if (tag === undefined) return { workflow };
  return workflow === '' ? { tag } : { workflow, tag };
}
