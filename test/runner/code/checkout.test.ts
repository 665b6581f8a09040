/**
 * Writing a commit's files from the runner's mirror: raw blob bytes, only the manifest's
 * files whose sha256 matches, modes from the manifest; and the mirror fetching new commits.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../../src/core/records.js';
import { listTree, writeMatchingBlobs } from '../../../src/runner/code/checkout.js';
import { gitAuth, type GitAuth } from '../../../src/runner/code/git-auth.js';
import { mirrorWithCommit } from '../../../src/runner/code/mirror.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' };

describe('checkout from the mirror', () => {
  let dir: string;
  let work: string;
  let bare: string;
  let auth: GitAuth;
  const big = randomBytes(3 << 20); // several pipe chunks: the reader must join them
  const gitIn = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: work, env }).toString();
  const commitAll = (message: string) => {
    gitIn('add', '-A');
    gitIn('commit', '-q', '-m', message);
    gitIn('push', '-q', 'origin', 'HEAD');
    return gitIn('rev-parse', 'HEAD').trim();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-checkout-'));
    bare = join(dir, 'remote.git');
    work = join(dir, 'work');
    execFileSync('git', ['init', '-q', '--bare', bare], { env });
    execFileSync('git', ['clone', '-q', bare, work], { env, stdio: 'ignore' });
    await mkdir(join(work, 'p', 'd'), { recursive: true });
    await writeFile(join(work, 'p', 'big.bin'), big);
    await writeFile(join(work, 'p', 'd', 'small.txt'), 'small\n');
    await writeFile(join(work, 'p', 'stale.txt'), 'committed\n');
    await writeFile(join(work, 'p', 'unlisted.txt'), 'not in the manifest\n');
    await writeFile(join(work, 'top.txt'), 'outside the project folder\n');
    // A .gitattributes that a checkout would apply: raw blobs ignore it.
    await writeFile(join(work, 'p', '.gitattributes'), '*.txt eol=crlf\n');
    auth = await gitAuth(bare, { kind: 'none' }, env);
  });

  it('writes the listed files with matching content, raw, with the manifest mode; nothing else', async () => {
    const commit = commitAll('first');
    const mirror = await mirrorWithCommit(join(dir, 'runner'), 'ada', bare, commit, auth);
    const tree = await listTree(mirror, commit, 'p', auth);
    expect(tree.map((t) => t.path).sort()).toStrictEqual([
      '.gitattributes',
      'big.bin',
      'd/small.txt',
      'stale.txt',
      'unlisted.txt',
    ]);
    const files: ManifestEntry[] = [
      { path: 'big.bin', size: big.length, mode: 0o755, digest: sha(big) },
      { path: 'd/small.txt', size: 6, mode: 0o644, digest: sha('small\n') },
      { path: 'stale.txt', size: 8, mode: 0o644, digest: sha('changed\n') },
      { path: 'new.txt', size: 4, mode: 0o644, digest: sha('new\n') },
    ];
    const out = join(dir, 'ws');
    await mkdir(out);
    const written = await writeMatchingBlobs(mirror, tree, files, out, auth);
    expect([...written].sort()).toStrictEqual(['big.bin', 'd/small.txt']);
    expect((await readFile(join(out, 'big.bin'))).equals(big)).toBe(true);
    expect(await readFile(join(out, 'd/small.txt'), 'utf8')).toBe('small\n');
    expect((await stat(join(out, 'big.bin'))).mode & 0o777).toBe(0o755);
    expect((await readdir(out)).sort()).toStrictEqual(['big.bin', 'd']);
  });

  it('applies only the permission bits of a crafted manifest mode (no setuid, setgid or sticky)', async () => {
    const commit = gitIn('rev-parse', 'HEAD').trim();
    const mirror = await mirrorWithCommit(join(dir, 'runner'), 'ada', bare, commit, auth);
    const tree = await listTree(mirror, commit, 'p', auth);
    const files: ManifestEntry[] = [{ path: 'd/small.txt', size: 6, mode: 0o107777, digest: sha('small\n') }];
    const out = join(dir, 'ws-modes');
    await mkdir(out);
    expect([...(await writeMatchingBlobs(mirror, tree, files, out, auth))]).toStrictEqual(['d/small.txt']);
    expect((await stat(join(out, 'd/small.txt'))).mode & 0o7777).toBe(0o777);
  });

  it('fetches a commit the mirror lacks; a commit the remote lacks is named', async () => {
    await writeFile(join(work, 'p', 'd', 'small.txt'), 'second\n');
    const commit = commitAll('second');
    const mirror = await mirrorWithCommit(join(dir, 'runner'), 'ada', bare, commit, auth);
    const tree = await listTree(mirror, commit, '', auth);
    expect(tree.find((t) => t.path === 'p/d/small.txt')?.id).toBe(gitIn('rev-parse', `${commit}:p/d/small.txt`).trim());
    const missing = 'f'.repeat(40);
    await expect(mirrorWithCommit(join(dir, 'runner'), 'ada', bare, missing, auth)).rejects.toThrow(
      `commit ${missing} is not in ${bare} (was it pushed?)`,
    );
  });

  it('a remote that cannot be cloned is a GitError with git’s reason', async () => {
    const nowhere = join(dir, 'nowhere.git');
    await expect(mirrorWithCommit(join(dir, 'runner'), 'ada', nowhere, 'f'.repeat(40), auth)).rejects.toThrow(
      `git clone failed: repository '${nowhere}' does not exist`,
    );
  });
});
