/**
 * A shortcut past zod for the common workflow item: a mapping of a name, a provider name,
 * an image, help, provider parameters, lists of strings (commands, dependencies, artifact
 * paths, inputs), an environment mapping and resources of plain values. Such an item is
 * valid under workflowSchema and zod would return a copy of it, so it is returned as it is.
 * Any other item (other keys, other shapes) gets undefined and goes through zod, which then
 * also words the error. On 10,000 workflows zod took about a tenth of a second, and loading
 * it takes a `dstack run` 40 to 70 ms.
 */
import { PARAM_KEYS, type RawWorkflow } from './workflow-schema.js';
import type { Plain } from './yaml-source.js';

type Check = (value: Plain) => boolean;

const isString: Check = (value) => typeof value === 'string';
const isList = (value: Plain): value is Plain[] => Array.isArray(value);
const isMapping = (value: Plain): value is { [key: string]: Plain } =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isStrings: Check = (value) => isList(value) && value.every(isString);

/** A strict mapping: only `keys`, each passing its check. */
const mappingOf =
  (keys: Record<string, Check>): Check =>
  (value) => {
    if (!isMapping(value)) return false;
    for (const key in value) if (!Object.hasOwn(keys, key) || !keys[key]!(value[key]!)) return false;
    return true;
  };

const gpuMapping = mappingOf({ count: isString, name: isString, memory: isString });
const gpu: Check = (value) => isString(value) || gpuMapping(value);

const resources = mappingOf({
  cpu: isString,
  memory: isString,
  gpu,
  shm_size: isString,
  interruptible: isString,
  nodes: isString,
});

/** `NAME: value` (a value may be empty) or a `NAME=value` list. */
const environment: Check = (value) =>
  isStrings(value) || (isMapping(value) && Object.values(value).every((v) => v === null || isString(v)));

const param: Check = (value) => isString(value) || isStrings(value);

const item = mappingOf({
  name: isString,
  provider: isString,
  image: isString,
  help: isString,
  commands: isStrings,
  'depends-on': isStrings,
  deps: isStrings,
  artifacts: isStrings,
  inputs: isStrings,
  resources,
  environment,
  env: environment,
  ...Object.fromEntries(PARAM_KEYS.map((key) => [key, param])),
});

export function simpleWorkflow(plain: Plain): RawWorkflow | undefined {
  if (!isMapping(plain) || typeof plain['name'] !== 'string') return undefined;
  return item(plain) ? (plain as RawWorkflow) : undefined;
}
