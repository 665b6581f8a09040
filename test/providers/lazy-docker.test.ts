/**
 * Planning a bash job must not load dockerode (with ssh2 and grpc-js it was a quarter of
 * every CLI command's CPU): the docker executor imports the engine only when it starts a container.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The node_modules packages loaded (as CommonJS) after importing `modules` in a fresh node. */
function packagesLoadedBy(...modules: string[]): string[] {
  const script = [
    "import { createRequire } from 'node:module';",
    ...modules.map((m) => `await import(${JSON.stringify(new URL(m, `file://${ROOT}`).href)});`),
    'const cache = createRequire(import.meta.url).cache;',
    'const names = Object.keys(cache).map((k) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(k)?.[1]).filter(Boolean);',
    'process.stdout.write(JSON.stringify([...new Set(names)]));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('the docker engine import', () => {
  it('is not loaded by dstack run, the provider registry or the runner executor selection', () => {
    const loaded = packagesLoadedBy(
      'src/cli/commands/run.ts',
      'src/providers/index.ts',
      'src/providers/custom/program.ts',
      'src/runner/executors/select.ts',
    );
    expect(loaded).not.toContain('dockerode');
    expect(loaded).not.toContain('ssh2');
  });

  it('is loaded once a docker executor asks for the engine', () => {
    expect(packagesLoadedBy('src/runner/executors/docker/engine.ts')).toContain('dockerode');
  });
});
