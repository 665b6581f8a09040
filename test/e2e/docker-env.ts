/**
 * The Docker engine of the tests: scripts/docker-test-env.sh installs and starts it (its own
 * socket) and builds the offline test images, once per machine; later calls take a second.
 * A test that needs docker calls `ensureDocker()`; when the engine cannot be had, it fails
 * and says how to get it. Never a silent skip.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import Docker from 'dockerode';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { REPO } from './harness.js';

/** Images the script builds. */
export const BUSYBOX = 'dstack-test/busybox:latest';
export const PYTHON = 'dstack-test/python:3.11';

let ready: Promise<string> | undefined;

/** DOCKER_HOST of the test engine, once it answers and has the test images. */
export function ensureDocker(): Promise<string> {
  ready ??= new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(REPO, 'scripts', 'docker-test-env.sh')],
      { timeout: 15 * 60_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const host = /^DOCKER_HOST=(\S+)$/m.exec(stdout)?.[1];
        if (error || host === undefined) {
          reject(
            new Error(
              'these tests need a Docker engine, and scripts/docker-test-env.sh could not provide one ' +
                `(run it as root; it installs docker.io and starts dockerd):\n${stderr.slice(-3000)}`,
            ),
          );
        } else resolve(host);
      },
    );
  });
  return ready;
}

/** Setup for a test file that drives the CLI with docker jobs: the engine in the environment its server inherits. */
export async function useDockerEnvironment(extra: Record<string, string> = {}): Promise<() => void> {
  const host = await ensureDocker();
  const saved = { ...process.env };
  Object.assign(process.env, { DOCKER_HOST: host, DSTACK_DOCKER_NETWORK: 'none', ...extra });
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
}

/**
 * `dstack-test/busybox-variant:<tag>`: the busybox test image (or `base`) after `setup` ran in it,
 * committed with `USER <user>` when given (`docker commit --change 'USER 1234'`): an image whose
 * user is not root, or that lacks a program.
 */
export async function busyboxVariant(
  tag: string,
  options: { user?: string; setup?: string; base?: string },
): Promise<string> {
  const image = `dstack-test/busybox-variant:${tag}`;
  const docker = new Docker(parseDockerHost(await ensureDocker()).options);
  // Made once per engine: a commit again would leave the last one's image behind, untagged.
  if (
    await docker
      .getImage(image)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return image;
  const base = options.base ?? BUSYBOX;
  const container = await docker.createContainer({ Image: base, Cmd: ['sh', '-c', options.setup ?? 'true'] });
  try {
    await container.start();
    await container.wait();
    const changes = options.user === undefined ? {} : { changes: `USER ${options.user}` };
    await container.commit({ repo: 'dstack-test/busybox-variant', tag, ...changes });
  } finally {
    await container.remove({ force: true });
  }
  return image;
}
