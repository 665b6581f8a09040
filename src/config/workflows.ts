/** `.dstack/workflows.yaml`: the `workflows:` list, each item read by workflow.ts. */
import type { Node } from 'yaml';
import { WORKFLOWS_FILE } from '../core/project-paths.js';
import { ConfigError } from '../core/errors.js';
import { WORKFLOW_NAME, type WorkflowConfig } from '../core/workflow.js';
import { readWorkflow } from './workflow.js';
import { WorkflowContext } from './workflow-context.js';
import { readPlainFast, type PlainReader } from './fast-yaml.js';
import { SourceHandle } from './source-handle.js';
import {
  describe,
  expectTopLevel,
  find,
  isScalar,
  isSeq,
  locate,
  parseYaml,
  resolveAlias,
  scalarText,
  toPlain,
  type Plain,
} from './yaml-source.js';

export { WORKFLOWS_FILE };

export interface ParsedWorkflows {
  workflows: WorkflowConfig[];
  /** Problems that do not stop a run, each prefixed with `file:line:column: `. */
  warnings: string[];
}

/**
 * Parse and validate the text of a workflows file. `file` is the name used in locations
 * and messages; `readPlain` gives the text's plain data (js-yaml's fast read, maybe cached).
 * Throws a ConfigError (with file, line and column) at the first problem.
 */
export function parseWorkflows(
  text: string,
  file: string = WORKFLOWS_FILE,
  readPlain: PlainReader = readPlainFast,
): ParsedWorkflows {
  const fast = readPlain(text);
  if (fast !== null && typeof fast === 'object' && !Array.isArray(fast)) {
    const keys = Object.keys(fast);
    const list = fast['workflows'];
    // The usual file: one `workflows:` list. Anything else is read fully, to say what is wrong.
    if (keys.length === 1 && Array.isArray(list)) {
      return readItems(new SourceHandle(text, file), list.length, (i) => list[i]!);
    }
  }
  return parseFully(text, file);
}

/**
 * The file read by `yaml` from the start: every check of the document's shape, with locations.
 * Exported for the test that holds parseWorkflows's fast read to the same results.
 */
export function parseFully(text: string, file: string): ParsedWorkflows {
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
  // Each item becomes plain data just before it is read, so errors come in the file's order.
  return readItems(new SourceHandle(text, file, src), items.items.length, (i) =>
    toPlain(src, items.items[i] as Node | null),
  );
}

/** Read `count` items, the `i`th as `item(i)` gives it, into workflows; the first problem throws. */
function readItems(source: SourceHandle, count: number, item: (i: number) => Plain): ParsedWorkflows {
  const warnings: string[] = [];
  const workflows: WorkflowConfig[] = [];
  const seen = new Map<string, WorkflowConfig>();
  for (let i = 0; i < count; i++) {
    const plain = item(i);
    // Name the workflow in messages by its name once it has a usable one, by its position before.
    const name = plain !== null && typeof plain === 'object' && !Array.isArray(plain) ? plain.name : undefined;
    const label = typeof name === 'string' && WORKFLOW_NAME.test(name) ? `'${name}'` : `#${i + 1}`;
    const workflow = readWorkflow(new WorkflowContext(source, ['workflows', i], label, warnings), plain);
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
  }
  return { workflows, warnings };
}
