/** Planning a project on disk with the real provider registry, for the custom provider tests. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject } from '../../src/config/index.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import { plan, type Plan } from '../../src/core/planner.js';
import { providerRegistry } from '../../src/providers/index.js';
import { readProviderSettings, type ProviderSettings } from '../../src/settings.js';

export async function tempDir(prefix = 'dstack-providers-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** A git repository at `dir` with `files` committed on `branch` (default main). */
export async function gitRepo(dir: string, files: Record<string, string>, branch = 'main'): Promise<void> {
  await writeFiles(dir, files);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', branch);
  git('add', '.');
  git('commit', '-qm', 'provider');
}

export async function planProject(
  root: string,
  target: string,
  options: { home?: string; settings?: Partial<ProviderSettings>; overrides?: Record<string, string> } = {},
): Promise<Plan> {
  const config = await loadProject(root);
  const registry = providerRegistry({
    config,
    home: options.home ?? join(root, '..', 'home'),
    settings: { ...readProviderSettings({}), ...options.settings },
  });
  return plan(config, { target, overrides: options.overrides ?? {} }, registry);
}

/** The ConfigError planning throws; fails when it throws nothing else. */
export async function planError(...args: Parameters<typeof planProject>): Promise<ConfigError> {
  try {
    await planProject(...args);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, but the plan succeeded');
}

/** The UsageError planning throws (a bad --flag); fails when it throws nothing else. */
export async function planUsageError(...args: Parameters<typeof planProject>): Promise<UsageError> {
  try {
    await planProject(...args);
  } catch (e) {
    if (e instanceof UsageError && !(e instanceof ConfigError)) return e;
    throw e;
  }
  throw new Error('expected a UsageError, but the plan succeeded');
}
