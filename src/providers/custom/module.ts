/**
 * A provider that is a JavaScript module, the in-process fast path of the same contract:
 * `.dstack/providers/<name>.mjs`, or an npm package (`provider: npm:<package>`), exporting
 * `{ name, schema, createJobs(workflow, context) }` (as the default export or as named ones).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { ProviderInput, ProviderWorkflow } from './contract.js';

/** What `createJobs` gets besides the workflow. */
export interface ModuleContext {
  variables: Record<string, string>;
  repo: ProviderInput['repo'];
  project_dir: string;
  /** A warning dstack prints at the workflow's `provider:` line. */
  warn(message: string): void;
}

/** A module's exports, checked. `schema` validates the workflow's `params`. */
export interface ProviderModule {
  name: string;
  schema?: unknown;
  createJobs(workflow: ProviderWorkflow, context: ModuleContext): unknown;
}

/** A Standard Schema (zod 3.24+, valibot, arktype): `~standard.validate`. */
interface StandardSchema {
  '~standard': {
    validate(value: unknown): StandardResult | Promise<StandardResult>;
  };
}
type StandardResult =
  { value: unknown; issues?: undefined } | { issues: readonly { message: string; path?: readonly unknown[] }[] };

const shape = z.looseObject({
  name: z.string({ error: 'a string' }),
  createJobs: z.custom<ProviderModule['createJobs']>((v) => typeof v === 'function', 'a function'),
  schema: z.unknown().optional(),
});

/** Load and check a module; throws an Error that says which export is wrong. */
export async function loadModule(file: string): Promise<ProviderModule> {
  // Keyed by content: a module that changed (another branch of its repository) is loaded anew.
  const version = createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
    .slice(0, 16);
  const loaded = (await import(`${pathToFileURL(file).href}?v=${version}`)) as Record<string, unknown>;
  const exports = (
    loaded.default !== undefined && typeof loaded.default === 'object' ? loaded.default : loaded
  ) as unknown;
  const result = shape.safeParse(exports);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(
      `its export '${issue.path.join('.') || 'default'}' should be ${issue.message.replace(/^Invalid input: /, '')}`,
    );
  }
  return result.data as ProviderModule;
}

/**
 * Check `params` with the module's schema: a Standard Schema, or a function given dstack's zod
 * that returns one (so a module with no dependencies can still declare one). Returns the parsed
 * params, or the first problem as `field: what`.
 */
export async function checkParams(
  schema: unknown,
  params: Record<string, unknown>,
): Promise<{ params: Record<string, unknown> } | { problem: string; field?: string; message?: string }> {
  if (schema === undefined) return { params };
  const resolved = typeof schema === 'function' ? (schema as (zod: typeof z) => unknown)(z) : schema;
  if (!resolved || typeof resolved !== 'object' || !('~standard' in resolved)) {
    return { problem: "its 'schema' is not a schema (a zod schema, another Standard Schema, or (z) => schema)" };
  }
  const result = await (resolved as StandardSchema)['~standard'].validate(params);
  if (result.issues === undefined) return { params: result.value as Record<string, unknown> };
  const issue = result.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === 'object' && p && 'key' in p ? String(p.key) : String(p)));
  const message = (issue?.message ?? 'invalid').replace(/^Invalid input: /, '');
  if (path.length === 0) return { problem: message };
  return { problem: `'${path.join('.')}': ${message}`, field: path.join('.'), message };
}

/**
 * The entry file of an npm package, looked up from the project (its node_modules, then its
 * parents'), honouring `exports` (import or default condition), `module` and `main`.
 */
export async function resolvePackage(name: string, root: string): Promise<string | undefined> {
  try {
    return createRequire(join(root, 'package.json')).resolve(name);
  } catch {
    // ESM-only packages have no `require` entry: read their package.json below.
  }
  for (let dir = root; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    const manifest = await readFile(join(pkgDir, 'package.json'), 'utf8').catch(() => undefined);
    if (manifest !== undefined) {
      const pkg = JSON.parse(manifest) as { exports?: unknown; module?: string; main?: string };
      const entry = exportEntry(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js';
      const file = join(pkgDir, entry);
      return existsSync(file) ? file : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function exportEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object') return undefined;
  const root = '.' in exports ? (exports as Record<string, unknown>)['.'] : exports;
  if (typeof root === 'string') return root;
  if (root && typeof root === 'object') {
    const conditions = root as Record<string, unknown>;
    for (const key of ['import', 'node', 'default']) {
      const value = conditions[key];
      if (typeof value === 'string') return value;
    }
  }
  return undefined;
}
