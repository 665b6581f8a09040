/**
 * A job with an image on a machine whose Docker engine its runner cannot use fails with why, in
 * the runner's words: the socket named, and what to do. A user outside the socket's group (a
 * throwaway uid whose only group is its own) is told permission is denied, not to start a dockerd
 * that runs; a DOCKER_HOST that is no address is named as such.
 */
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { ensureDocker, useDockerEnvironment } from './docker-env.js';
import { Sandbox } from './harness.js';

/** No account has it here, nor its group: the engine's socket (root:docker, 0660) is not theirs. */
const OUTSIDER = { uid: 54322, gid: 54322 };

const WORKFLOWS = `workflows:
  - name: boxed
    image: dstack-test/busybox
    commands: [echo hi]
`;

describe('a job with an image where no Docker engine answers the runner', () => {
  const sandboxes: Sandbox[] = [];
  let restore: () => void;
  let socket: string;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    socket = parseDockerHost(await ensureDocker()).options.socketPath!;
    const { gid, mode } = await stat(socket);
    expect([gid === OUTSIDER.gid, mode & 0o007]).toEqual([false, 0]); // the outsider may not use it
  }, 900_000);
  afterAll(async () => {
    for (const sb of sandboxes) await sb.dispose();
    restore?.();
  });

  /** The reason `boxed` failed with, run by `user` (the test's when none) with `env`. */
  const failure = async (options: { user?: typeof OUTSIDER; env?: Record<string, string> }) => {
    const sb = await Sandbox.create(options.user ? { user: options.user } : {});
    sandboxes.push(sb);
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    const r = await sb.dstack(['run', 'boxed'], { env: options.env ?? {} });
    expect(r.code, r.stderr).toBe(1);
    const status = await sb.dstack(['status', '--last', '1', '--json'], { env: options.env ?? {} });
    const job = (JSON.parse(status.stdout) as RunView[])[0]!.jobs[0]!;
    expect(job.status).toBe('FAILED');
    return job.reason;
  };

  it('says permission is denied at its socket to a user outside the socket group', async () => {
    expect(await failure({ user: OUTSIDER })).toBe(
      `this machine does not have a Docker engine: none answers at ${socket} (permission denied): uid ` +
        `${OUTSIDER.uid} may not use it; add that user to the socket's group (most often 'docker'), or set ` +
        'DOCKER_HOST to a socket it may use',
    );
  });

  it('says the engine lacks the network DSTACK_DOCKER_NETWORK names, rather than try a container', async () => {
    expect(await failure({ env: { DSTACK_DOCKER_NETWORK: 'dstack-test-no-such-network' } })).toBe(
      "this machine does not have a Docker engine: its engine has no network 'dstack-test-no-such-network' " +
        '(DSTACK_DOCKER_NETWORK): create it (docker network create dstack-test-no-such-network), or set ' +
        'DSTACK_DOCKER_NETWORK to host, none or a network the engine has (docker network ls)',
    );
  });

  it('says a DOCKER_HOST that is no address is not supported', async () => {
    expect(await failure({ env: { DOCKER_HOST: 'bogus' } })).toBe(
      "this machine does not have a Docker engine: DOCKER_HOST 'bogus' is not supported: use " +
        'unix:///path/to/docker.sock or tcp://host:port',
    );
  });
});
