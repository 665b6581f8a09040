/**
 * A stop during a clone into the runner's mirror: the job stops waiting at once, and git (with
 * the helper that holds its connection) is ended once no other job waits on that mirror. The
 * remote is a real HTTP one that holds its answers (services/slow-git-server.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gitAuth, type GitAuth } from '../../../src/runner/code/git-auth.js';
import { mirrorWithCommit } from '../../../src/runner/code/mirror.js';
import { slowGitServer, type SlowGitServer } from '../../services/slow-git-server.js';

const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' };

describe('a stop while the mirror is cloned', () => {
  let dir: string;
  let commit: string;
  let remote: SlowGitServer;
  let auth: GitAuth;
  let n = 0;
  const workRoot = () => join(dir, `runner-${n++}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-mirror-stop-'));
    const work = join(dir, 'work');
    const bare = join(dir, 'remote.git');
    execFileSync('git', ['init', '-q', '-b', 'main', work], { env });
    await writeFile(join(work, 'a.txt'), 'a\n');
    const inWork = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-C', work, ...args], { env }).toString();
    inWork('add', '-A');
    inWork('commit', '-q', '-m', 'first');
    commit = inWork('rev-parse', 'HEAD').trim();
    execFileSync('git', ['clone', '-q', '--bare', work, bare], { env });
    remote = await slowGitServer(bare);
    auth = await gitAuth(remote.url, { kind: 'none' }, env);
  });
  afterEach(() => remote.hold(true));
  afterAll(async () => {
    await remote?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A clone for one job, with its stop; resolves to the error it ended with, or its mirror. */
  const cloneFor = (root: string) => {
    const stop = new AbortController();
    const outcome = mirrorWithCommit(root, 'ada', remote.url, commit, auth, stop.signal).catch((e: Error) => e);
    return { stop: () => stop.abort(), outcome };
  };

  it('ends at once: git and its connection are gone, and no partial clone is left', async () => {
    const root = workRoot();
    const job = cloneFor(root);
    await vi.waitFor(() => expect(remote.held()).toBe(1), { timeout: 10_000 });
    const stopped = Date.now();
    job.stop();
    expect(((await job.outcome) as Error).name).toBe('AbortError');
    expect(Date.now() - stopped).toBeLessThan(500);
    await vi.waitFor(() => expect(remote.connections()).toBe(0), { timeout: 3000 });
    await vi.waitFor(async () => expect(await readdir(join(root, 'repos'))).toEqual([]), { timeout: 3000 });
  });

  it('goes on for another job waiting on that mirror, which gets it; ends once both are stopped', async () => {
    const root = workRoot();
    const [first, second] = [cloneFor(root), cloneFor(root)];
    await vi.waitFor(() => expect(remote.held()).toBe(1), { timeout: 10_000 });
    first.stop();
    expect(((await first.outcome) as Error).name).toBe('AbortError');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(remote.held()).toBe(1); // still cloning, for the second
    remote.hold(false);
    expect(await second.outcome).toMatch(/\.git$/);

    remote.hold(true);
    const other = workRoot();
    const [third, fourth] = [cloneFor(other), cloneFor(other)];
    await vi.waitFor(() => expect(remote.held()).toBe(1), { timeout: 10_000 });
    third.stop();
    fourth.stop();
    expect(((await fourth.outcome) as Error).name).toBe('AbortError');
    await vi.waitFor(() => expect(remote.connections()).toBe(0), { timeout: 3000 });
  });
});
