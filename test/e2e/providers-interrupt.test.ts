/**
 * A containerized provider's program when the CLI running it is interrupted (Ctrl-C) or killed:
 * nothing of it is left running, with the project mounted, nor its folder of files.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { BUSYBOX, useDockerEnvironment } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';

describe('a containerized provider interrupted', () => {
  let sb: Sandbox;
  let restore: () => void;
  let engine: Docker;
  const containersOf = (provider: string) =>
    engine.listContainers({ all: true, filters: { label: [`dstack.provider=${provider}`] } });

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    engine = new Docker(parseDockerHost(process.env.DOCKER_HOST!).options);
    sb = await Sandbox.create();
    const provider = (name: string, command: string) =>
      `  - name: ${name}\n    image: ${BUSYBOX}\n    commands:\n      - >-\n        ${command}\n`;
    await sb.write({
      '.dstack/providers.yaml':
        'providers:\n' +
        provider('sleepy', 'sleep 300') +
        provider('quick', `echo '{"jobs": [{"name": "a", "commands": ["true"]}]}' > $DSTACK_PROVIDER_OUTPUT`),
      '.dstack/workflows.yaml':
        'workflows:\n  - name: sleepy\n    provider: sleepy\n  - name: quick\n    provider: quick\n',
    });
  }, 900_000);
  afterAll(async () => {
    for (const c of [...(await containersOf('sleepy')), ...(await containersOf('leftover'))])
      await engine.getContainer(c.Id).remove({ force: true });
    await sb?.dispose();
    restore?.();
  });

  it('removes its container and folder on Ctrl-C, and says so', async () => {
    const cli = sb.spawn(['run', 'sleepy', '--dry-run']);
    let stderr = '';
    cli.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const [container] = await waitUntil(async () => {
      const found = await containersOf('sleepy');
      return found.some((c) => c.State === 'running') && found;
    }, 60_000);
    const io = container!.Labels['dstack.provider.io']!;
    expect(existsSync(io)).toBe(true);
    cli.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain("interrupted while provider 'sleepy' ran: it was ended, and nothing runs");
    expect(await containersOf('sleepy')).toEqual([]);
    expect(existsSync(io)).toBe(false);
  }, 120_000);

  it("removes, at the next run of a provider, what a killed CLI's provider left", async () => {
    // As a CLI killed outright leaves it: its pid gone, its container and folder still there.
    const io = await mkdtemp(join(tmpdir(), 'dstack-provider-'));
    const left = await engine.createContainer({
      Image: BUSYBOX,
      Cmd: ['sleep', '300'],
      Labels: {
        'dstack.provider': 'leftover',
        'dstack.provider.host': hostname(),
        'dstack.provider.pid': '2147483646',
        'dstack.provider.io': io,
      },
      HostConfig: { NetworkMode: 'none' },
    });
    await left.start();
    try {
      const r = await sb.dstack(['run', 'quick', '--dry-run']);
      expect(r.code, r.stderr).toBe(0);
      expect(await containersOf('leftover')).toEqual([]);
      expect(existsSync(io)).toBe(false);
    } finally {
      await rm(io, { recursive: true, force: true });
    }
  }, 120_000);
});
