/** What a runner tells it can run: its Docker engine (the test engine, or none) and the Pythons on its PATH. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AbilityWatch, abilityProbe, answeringDocker, dockerProblem, hostPythons } from '../../src/runner/abilities.js';
import { ensureDocker } from '../e2e/docker-env.js';

/** A temp folder, removed once the test has finished. */
async function folderForTheTest(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('runner abilities', () => {
  it(
    'finds a Docker engine that answers, and says why none does at a missing socket or an unsupported DOCKER_HOST',
    async () => {
      expect(await dockerProblem(await ensureDocker())).toBeUndefined();
      const dir = await folderForTheTest('dstack-abilities-');
      const missing = join(dir, 'nodocker.sock');
      const noSocket = `none answers at ${missing} (no such socket): start dockerd, or set DOCKER_HOST to its socket`;
      const unsupported =
        "DOCKER_HOST 'ssh://somewhere' is not supported: use unix:///path/to/docker.sock or tcp://host:port";
      expect(await dockerProblem(`unix://${missing}`)).toBe(noSocket);
      expect(await dockerProblem('ssh://somewhere')).toBe(unsupported);
      // The start's ping: a client of the engine that answered, or why none did.
      expect(await answeringDocker(await ensureDocker())).toHaveProperty('docker');
      expect(await answeringDocker(`unix://${missing}`)).toEqual({ problem: noSocket });
      expect(await answeringDocker('ssh://somewhere')).toEqual({ problem: unsupported });
    },
    15 * 60_000,
  );

  it('lists no host Python for a runner started with --no-host-jobs, which runs none', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const runtime = process.env.DSTACK_PYTHON_RUNTIME;
    delete process.env.DSTACK_PYTHON_RUNTIME;
    try {
      expect(await abilityProbe(env, false).pythons()).toEqual([]);
      process.env.DSTACK_PYTHON_RUNTIME = 'docker';
      expect(await abilityProbe(env, false).pythons()).toEqual(['docker']);
    } finally {
      if (runtime === undefined) delete process.env.DSTACK_PYTHON_RUNTIME;
      else process.env.DSTACK_PYTHON_RUNTIME = runtime;
    }
  });

  it('lists the pythonX.Y on the PATH that run, leaving out one that does not (a shim of a missing version)', async () => {
    const bin = await folderForTheTest('dstack-pythons-');
    const script = async (name: string, body: string) => {
      await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
      await chmod(join(bin, name), 0o755);
    };
    await script('python3', 'exit 0');
    await script('python3.98', 'exit 0');
    await script('python3.99', 'echo "pyenv: python3.99: command not found" >&2; exit 127');
    await script('python3-config', 'exit 0'); // not an interpreter a job can name
    await writeFile(join(bin, 'python3.97'), ''); // not executable
    expect(await hostPythons({ PATH: `${bin}:${join(bin, 'missing')}` })).toEqual(['3', '3.98']);
  });

  it('registers without Pythons slow to find by default (inside the server), and with them when told to wait', async () => {
    const bin = await folderForTheTest('dstack-slow-pythons-');
    // A pyenv shim takes its time to answer.
    await writeFile(join(bin, 'python3.98'), '#!/bin/sh\n/bin/sleep 1\nexit 0\n');
    await chmod(join(bin, 'python3.98'), 0o755);
    const probe = abilityProbe({ PATH: bin });
    expect((await new AbilityWatch(probe, () => {}).now('none answers')).python).toBeUndefined();
    expect((await new AbilityWatch(probe, () => {}, 10_000).now('none answers')).python).toEqual(['3.98']);
  });
});
