/**
 * A workflow's `resources:` as its jobs' request: each value with its variables substituted
 * (`sub`) and checked; `bad` throws for one that is not a count or a size, blaming its source.
 */
import type { JobResources } from './job-spec.js';
import { DEFAULT_REQUEST, MIN_JOB_MEMORY, parseSize } from './resources.js';
import type { ResourcesConfig } from './workflow.js';

export function resourceRequest(
  r: ResourcesConfig,
  sub: (text: string, field: string) => string,
  bad: (field: string, raw: string, value: string, expected: string) => never,
  warn: (detail: string, field: string) => void = () => {},
): JobResources {
  const request: JobResources = { ...DEFAULT_REQUEST };
  const count = (field: string, raw: string): number => {
    const value = sub(raw, field).trim();
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) bad(field, raw, value, countRule(field, value));
    return Number(value);
  };
  const size = (field: string, raw: string, value = sub(raw, field)): number =>
    parseSize(value) ?? bad(field, raw, value, 'a size like 512MB or 32GB');
  if (r.cpu !== undefined) request.cpu = count('resources.cpu', r.cpu);
  if (r.memory !== undefined) request.memory = memory(r.memory, sub, bad, warn);
  if (r.gpu?.count !== undefined) request.gpu = count('resources.gpu', r.gpu.count);
  // `gpu: {name: V100}` asks for a V100: one, when no count is given.
  else if (r.gpu?.name !== undefined || r.gpu?.memory !== undefined) request.gpu = 1;
  if (r.gpu?.name !== undefined) request.gpuName = sub(r.gpu.name, 'resources.gpu.name');
  if (r.gpu?.memory !== undefined) {
    const field = 'resources.gpu.memory';
    const value = sub(r.gpu.memory, field).trim();
    request.gpuMemory = size(field, r.gpu.memory, value);
    // No GPU has under a gigabyte: `memory: 40` meant 40GB, not the 40MB a bare number is.
    if (BARE_NUMBER.test(value) && request.gpuMemory < 1e9)
      bad(field, r.gpu.memory, value, `a size with its unit, like ${value}GB (a bare number is megabytes)`);
  }
  if (r.shmSize !== undefined) request.shmSize = size('resources.shm_size', r.shmSize);
  if (r.interruptible !== undefined) {
    const field = 'resources.interruptible';
    const value = sub(r.interruptible, field);
    const interruptible = yamlBoolean(value) ?? bad(field, r.interruptible, value, 'true or false');
    if (interruptible) request.interruptible = true;
  }
  return request;
}

/** A GPU's model (`A100`, `V100`, `T4`, `RTX3090`, `A10G`), as a user writes it for the count. */
const GPU_MODEL = /^[a-z]{1,4}\d{1,4}[a-z]?$/i;

function countRule(field: string, value: string): string {
  if (field !== 'resources.gpu' || !GPU_MODEL.test(value)) return 'a whole number';
  return `a whole number of GPUs; to ask for a model, write gpu: {name: ${value}} (one GPU) or gpu: {count: 2, name: ${value}}`;
}

const TRUE = new Set(['true', 'yes', 'on']);
const FALSE = new Set(['false', 'no', 'off']);

/** A boolean as YAML 1.1 (what the first dstack read) also spells it: yes/no/on/off; undefined for anything else. */
export function yamlBoolean(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  return TRUE.has(value) ? true : FALSE.has(value) ? false : undefined;
}

/** A size without a unit: megabytes (as the first dstack read it). */
const BARE_NUMBER = /^\d+(\.\d+)?$/;

/**
 * `memory`, in bytes. A bare number is megabytes (as the first dstack read it), which users
 * take for gigabytes: under the least a job can run in it is refused, and under a gigabyte
 * it draws a warning, each saying the unit (`memory: 16` is 16MB).
 */
function memory(
  raw: string,
  sub: (text: string, field: string) => string,
  bad: (field: string, raw: string, value: string, expected: string) => never,
  warn: (detail: string, field: string) => void,
): number {
  const field = 'resources.memory';
  const value = sub(raw, field).trim();
  const bytes = parseSize(value) ?? bad(field, raw, value, 'a size like 512MB or 32GB');
  const bare = BARE_NUMBER.test(value);
  if (bytes > 0 && bytes < MIN_JOB_MEMORY) {
    const unit = bare ? ` (a bare number is megabytes: ${value} is ${value}MB; did you mean ${value}GB?)` : '';
    bad(field, raw, value, `at least 6MiB, the least memory a job runs in${unit}`);
  }
  if (bare && bytes > 0 && bytes < 1e9) {
    warn(`${value} is ${value}MB (a bare number is megabytes); write ${value}MB to keep it, or ${value}GB`, field);
  }
  return bytes;
}
