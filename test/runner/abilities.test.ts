/** What a runner tells it can run: its Docker engine (the test engine, or none) and the Pythons on its PATH. */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbilityWatch, abilityProbe, answeringDocker, dockerAnswers, hostPythons } from '../../src/runner/abilities.js';
import { ensureDocker } from '../e2e/docker-env.js';

describe('runner abilities', () => {
  it(
    'finds a Docker engine that answers, and none at a missing socket or an unsupported DOCKER_HOST',
    async () => {
      expect(await dockerAnswers(await ensureDocker())).toBe(true);
      const dir = await mkdtemp(join(tmpdir(), 'dstack-abilities-'));
      expect(await dockerAnswers(`unix://${join(dir, 'nodocker.sock')}`)).toBe(false);
      expect(await dockerAnswers('ssh://somewhere')).toBe(false);
      // The start's ping: a client of the engine that answered, or none.
      expect(await answeringDocker(await ensureDocker())).toBeDefined();
      expect(await answeringDocker(`unix://${join(dir, 'nodocker.sock')}`)).toBeUndefined();
      expect(await answeringDocker('ssh://somewhere')).toBeUndefined();
    },
    15 * 60_000,
  );

  it('lists the pythonX.Y on the PATH that run, leaving out one that does not (a shim of a missing version)', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'dstack-pythons-'));
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
    const bin = await mkdtemp(join(tmpdir(), 'dstack-slow-pythons-'));
    // A pyenv shim takes its time to answer.
    await writeFile(join(bin, 'python3.98'), '#!/bin/sh\n/bin/sleep 1\nexit 0\n');
    await chmod(join(bin, 'python3.98'), 0o755);
    const probe = abilityProbe({ PATH: bin });
    expect((await new AbilityWatch(probe, () => {}).now(false)).python).toBeUndefined();
    expect((await new AbilityWatch(probe, () => {}, 10_000).now(false)).python).toEqual(['3.98']);
  });
});
