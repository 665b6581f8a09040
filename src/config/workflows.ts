/** `.dstack/workflows.yaml`: the `workflows:` list, each item read by workflow.ts. */
import { isScalar, isSeq, type Node } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { WORKFLOW_NAME, type WorkflowConfig } from '../core/workflow.js';
import { readWorkflow } from './workflow.js';
import { WorkflowContext } from './workflow-context.js';
import { describe, expectTopLevel, find, locate, parseYaml, resolveAlias, scalarText, toPlain } from './yaml-source.js';

export const WORKFLOWS_FILE = '.dstack/workflows.yaml';

export interface ParsedWorkflows {
  workflows: WorkflowConfig[];
  /** Problems that do not stop a run, each prefixed with `file:line:column: `. */
  warnings: string[];
}

/**
 * Parse and validate the text of a workflows file. `file` is the name used in locations
 * and messages. Throws a ConfigError (with file, line and column) at the first problem.
 */
export function parseWorkflows(text: string, file: string = WORKFLOWS_FILE): ParsedWorkflows {
  const src = parseYaml(text, file);
  const root = src.doc.contents === null ? null : resolveAlias(src, src.doc.contents);
  const add = "add 'workflows:' with a list of workflows (- name: ...)";
  if (root === null || (isScalar(root) && scalarText(root) === null)) {
    throw new ConfigError(`the file has no workflows: ${add}`, locate(src, []));
  }
  expectTopLevel(src, root, 'workflows');
  const list = find(src, ['workflows']);
  if (!list.complete) throw new ConfigError(`the file has no 'workflows:' list: ${add}`, locate(src, []));
  const items = list.node === null ? null : resolveAlias(src, list.node);
  if (!isSeq(items)) {
    if (isScalar(items) && scalarText(items) === null) return { workflows: [], warnings: [] };
    throw new ConfigError(
      `'workflows' must be a list of workflows (- name: ...), not ${describe(src, ['workflows'])}`,
      locate(src, ['workflows']),
      'workflows',
    );
  }

  const warnings: string[] = [];
  const workflows: WorkflowConfig[] = [];
  const seen = new Map<string, WorkflowConfig>();
  items.items.forEach((item, i) => {
    const plain = toPlain(src, item as Node | null);
    // Name the workflow in messages by its name once it has a usable one, by its position before.
    const name = plain !== null && typeof plain === 'object' && !Array.isArray(plain) ? plain.name : undefined;
    const label = typeof name === 'string' && WORKFLOW_NAME.test(name) ? `'${name}'` : `#${i + 1}`;
    const workflow = readWorkflow(new WorkflowContext(src, ['workflows', i], label, warnings), plain);
    const first = seen.get(workflow.name);
    if (first) {
      throw new ConfigError(
        `duplicate workflow name '${workflow.name}': already defined at line ${first.locations['name']?.line}`,
        workflow.locations['name'],
        'name',
      );
    }
    seen.set(workflow.name, workflow);
    workflows.push(workflow);
  });
  return { workflows, warnings };
}
