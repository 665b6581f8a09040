/**
 * Which files `dstack run` uploads: all of them, unless the remote is registered and the
 * commit pushed; then those whose raw bytes differ from the commit's blobs.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { blobId, filesToUpload } from '../../src/client/changed-files.js';
import type { Client } from '../../src/client/client.js';
import { snapshotProject } from '../../src/client/snapshot.js';
import type { RepoView } from '../../src/core/repos.js';

const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' };

/** The one client call filesToUpload makes: which remotes the user registered. */
const registered = (remotes: string[]) =>
  ({
    listRepos: async (): Promise<RepoView[]> => remotes.map((remote) => ({ remote, credential: 'none', createdAt: 0 })),
  }) as unknown as Client;

describe('filesToUpload', () => {
  let dir: string;
  let work: string;
  let bare: string;
  const gitIn = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: work, env }).toString();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-changed-'));
    bare = join(dir, 'remote.git');
    work = join(dir, 'work');
    execFileSync('git', ['init', '-q', '--bare', bare], { env });
    execFileSync('git', ['clone', '-q', bare, work], { env, stdio: 'ignore' });
    await mkdir(join(work, 'proj'));
    await writeFile(join(work, 'proj', 'same.txt'), 'same\n');
    await writeFile(join(work, 'proj', 'edited.txt'), 'v1\n');
    await writeFile(join(work, 'proj', 'mode.sh'), 'echo\n');
    await writeFile(join(work, 'proj', 'crlf.txt'), 'line\n');
    await writeFile(join(work, 'proj', '.gitattributes'), 'crlf.txt eol=crlf\n');
    gitIn('add', '-A');
    gitIn('commit', '-q', '-m', 'one');
    gitIn('push', '-q', 'origin', 'HEAD');
    await writeFile(join(work, 'proj', 'edited.txt'), 'v2\n');
    await writeFile(join(work, 'proj', 'new.txt'), 'new\n');
    await chmod(join(work, 'proj', 'mode.sh'), 0o755);
    await writeFile(join(work, 'proj', 'crlf.txt'), 'line\r\n'); // what a checkout with that attribute writes
  });

  it('blobId is git’s object id of the raw bytes', async () => {
    const path = join(work, 'proj', 'crlf.txt');
    const expected = execFileSync('git', ['hash-object', '--no-filters', path], { env }).toString().trim();
    expect(await blobId(path, 6, 'sha1')).toBe(expected);
  });

  it('with the remote registered and the commit pushed: only files whose bytes differ from the commit', async () => {
    const root = join(work, 'proj');
    const snapshot = await snapshotProject(root);
    expect(snapshot.repo).toMatchObject({ remote: bare, subdir: 'proj', dirty: true });
    const paths = (await filesToUpload(registered([bare]), root, snapshot)).map((f) => f.path).sort();
    // mode.sh changed only its mode: its bytes are the commit's, the manifest carries the mode.
    expect(paths).toStrictEqual(['crlf.txt', 'edited.txt', 'new.txt']);
  });

  it('every file when the remote is not registered, or the commit is not pushed', async () => {
    const root = join(work, 'proj');
    const snapshot = await snapshotProject(root);
    const all = snapshot.manifest.files.map((f) => f.path).sort();
    expect((await filesToUpload(registered([]), root, snapshot)).map((f) => f.path).sort()).toStrictEqual(all);
    gitIn('commit', '-q', '--allow-empty', '-m', 'local only');
    const later = await snapshotProject(root);
    expect((await filesToUpload(registered([bare]), root, later)).map((f) => f.path).sort()).toStrictEqual(all);
  });
});
