/** What a runner tells it can run: its Docker engine (the test engine, or none) and the Pythons on its PATH. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import Docker from 'dockerode';
import { AbilityWatch, abilityProbe, answeringDocker, dockerProblem, hostPythons } from '../../src/runner/abilities.js';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { missingNetwork, NO_NETWORK } from '../../src/runner/executors/docker/network.js';
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

  it(
    'says the engine lacks the network DSTACK_DOCKER_NETWORK names, and finds one it has by name or id',
    async () => {
      const host = await ensureDocker();
      const missing =
        "its engine has no network 'dstack-test-no-such-network' (DSTACK_DOCKER_NETWORK): create it " +
        '(docker network create dstack-test-no-such-network), or set DSTACK_DOCKER_NETWORK to host, none or a ' +
        'network the engine has (docker network ls)';
      expect(await dockerProblem(host, 'dstack-test-no-such-network')).toBe(missing);
      expect(await dockerProblem(host, 'none')).toBeUndefined();
      expect(await dockerProblem(host, 'host')).toBeUndefined();
      // The start's ping keeps the client (to remove leftover containers) and tells the problem.
      const reached = await answeringDocker(host, 'dstack-test-no-such-network');
      expect(reached).toHaveProperty('docker');
      expect(reached.problem).toBe(missing);
      // A network looked up rather than built in: the engine's `none` by its id.
      const docker = new Docker(parseDockerHost(host).options);
      const none = (await docker.listNetworks()).find((n) => n.Name === 'none')!;
      expect(await missingNetwork(docker, none.Id)).toBeUndefined();
    },
    15 * 60_000,
  );

  it('warns that a runner started with --no-host-jobs runs nothing while it has no Docker engine', async () => {
    const notes: [string, boolean | undefined][] = [];
    const probe = { docker: () => Promise.resolve(undefined), pythons: () => Promise.resolve([]) };
    const watch = new AbilityWatch(probe, (text, warn) => notes.push([text, warn]), 0, false);
    await watch.now('none answers at /x.sock (no such socket): start dockerd');
    await watch.now(undefined);
    expect(notes).toEqual([
      [
        'no Docker engine: none answers at /x.sock (no such socket): start dockerd; started with --no-host-jobs, ' +
          'this runner runs no job at all until one answers',
        true,
      ],
      ['a Docker engine answers: this runner takes jobs with an image', undefined],
    ]);
  });

  it('notes an engine without the network apart from one that does not answer', async () => {
    const notes: string[] = [];
    const probe = { docker: () => Promise.resolve(undefined), pythons: () => Promise.resolve([]) };
    const watch = new AbilityWatch(probe, (text) => notes.push(text));
    expect(await watch.now(`${NO_NETWORK} 'x' (DSTACK_DOCKER_NETWORK): create it`)).toMatchObject({ docker: false });
    expect(notes).toEqual([
      "a Docker engine answers, but its engine has no network 'x' (DSTACK_DOCKER_NETWORK): create it; " +
        'this runner takes no job with an image until it has that network',
    ]);
  });

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
