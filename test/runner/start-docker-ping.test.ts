/**
 * A runner's start asks its Docker engine once: the one ping serves both the removal of the
 * containers a previous runner left and what the runner registers it can run. The engine is a
 * stand-in on a unix socket that counts pings and lists no containers; the server and runner are real.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunnerClient } from '../../src/client/runner-client.js';
import { createLogger } from '../../src/logger.js';
import { abilityProbe } from '../../src/runner/abilities.js';
import { RunnerAgent } from '../../src/runner/agent.js';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { issueToken } from '../../src/server/auth.js';
import { startTestServer } from '../services/server.js';

/** An engine at `socket` that answers pings and lists no containers; `requests` are the paths asked, in order. */
async function standInEngine(socket: string): Promise<{ server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    requests.push(path);
    if (path.endsWith('/_ping')) res.end('OK');
    else if (path.endsWith('/containers/json')) res.setHeader('Content-Type', 'application/json').end('[]');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { server, requests };
}

describe("a runner's start", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('pings the Docker engine once, for its leftover containers and its abilities both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-start-ping-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const engine = await standInEngine(join(dir, 'docker.sock'));
    cleanup.push(() => new Promise((resolve) => engine.server.close(resolve)));
    vi.stubEnv('DOCKER_HOST', `unix://${join(dir, 'docker.sock')}`);
    cleanup.push(async () => vi.unstubAllEnvs());
    const t = await startTestServer();
    cleanup.push(() => t.stop());
    const workRoot = join(dir, 'work');
    await mkdir(workRoot);
    const logged: string[] = [];
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const agent = new RunnerAgent({
      client: new RunnerClient({
        url: t.server.url,
        token: await issueToken(t.server.engine.store, 'runner', 'r1', false),
      }),
      name: 'r1',
      workRoot,
      capacity: { cpu: 1, memory: 1 << 30, gpus: [] },
      executor: new ProcessExecutor(workRoot),
      logger: createLogger('test', 'info', (line) => logged.push(line)),
      baseEnv,
      stopGraceMs: 1000,
      abilities: abilityProbe(baseEnv),
    });
    await agent.start();
    cleanup.push(() => agent.stop());

    expect(engine.requests.filter((path) => path.endsWith('/_ping'))).toHaveLength(1);
    expect(engine.requests.filter((path) => path.endsWith('/containers/json'))).toHaveLength(1);
    expect((await t.server.engine.store.getRunner('r1'))?.total.docker).toBe(true);
    expect(
      logged.filter((line) => line.includes('a Docker engine answers: this runner takes jobs with an image')),
    ).toHaveLength(1);
  }, 30_000);
});
