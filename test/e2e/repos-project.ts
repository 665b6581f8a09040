/**
 * A git project for the repo tests: a bare repo beside the sandbox as `origin`, a pushed
 * commit, then every kind of working-tree change (modified, deleted, untracked, ignored,
 * mode changes), and a workflow that prints the workspace: every entry with its type,
 * mode and size, and every file's sha256.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readLocalServer } from '../../src/client/embedded.js';
import { Client } from '../../src/client/client.js';
import type { Result, Sandbox } from './harness.js';

export const LIST_WORKFLOW = `workflows:
  - name: list
    commands:
      - find . -mindepth 1 -printf '%y %m %s %P\\n' | LC_ALL=C sort -k4
      - find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
`;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'dstack test',
  GIT_AUTHOR_EMAIL: 'test@dstack.invalid',
  GIT_COMMITTER_NAME: 'dstack test',
  GIT_COMMITTER_EMAIL: 'test@dstack.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
}

/** Build the project in `sb.root`, pushed to a bare repo beside it; returns the bare repo's path. */
export async function makeProject(sb: Sandbox): Promise<string> {
  const bare = join(dirname(sb.root), 'remote.git');
  git(dirname(sb.root), 'init', '-q', '--bare', bare);
  await sb.write({
    '.dstack/workflows.yaml': LIST_WORKFLOW,
    '.gitignore': 'ignored.log\nbuild/\n',
    'keep.txt': 'kept as committed\n',
    'mod.txt': 'committed line\n',
    'del.txt': 'deleted in the working tree\n',
    'gone/only.txt': 'the only file of a folder that is deleted\n',
    'sub/nested.txt': 'nested\n',
    'run.sh': '#!/bin/sh\necho run\n',
    'chmod.txt': 'made executable in the working tree\n',
  });
  await chmod(join(sb.root, 'run.sh'), 0o755);
  await symlink('keep.txt', join(sb.root, 'link'));
  git(sb.root, 'init', '-q', '-b', 'main');
  git(sb.root, 'add', '-A');
  git(sb.root, 'commit', '-q', '-m', 'initial');
  git(sb.root, 'remote', 'add', 'origin', bare);
  git(sb.root, 'push', '-q', '-u', 'origin', 'main');

  await writeFile(join(sb.root, 'mod.txt'), 'committed line\nand an uncommitted one\n');
  await rm(join(sb.root, 'del.txt'));
  await rm(join(sb.root, 'gone'), { recursive: true });
  await sb.write({
    'new.txt': 'untracked\n',
    'sub/untracked.txt': 'untracked, nested\n',
    'ignored.log': 'ignored: must not reach the job\n',
    'build/out.o': 'ignored folder\n',
  });
  await chmod(join(sb.root, 'chmod.txt'), 0o755);
  await chmod(join(sb.root, 'run.sh'), 0o644);
  await mkdir(join(sb.root, 'empty-untracked-dir'));
  return bare;
}

/** The workspace listing a `list` job printed: `type mode size path` lines, then `sha256  ./path` lines. */
export function listing(result: Result): string[] {
  return result.stdout.split('\n').filter((l) => /^[fdl] \d{3} \d+ /.test(l) || /^[0-9a-f]{64} {2}\.\//.test(l));
}

/** A client of the sandbox's embedded server, with the sandbox user's token. */
export async function localClient(sb: Sandbox): Promise<Client> {
  const local = await readLocalServer(sb.home);
  if (!local) throw new Error('the embedded server is not running');
  return new Client({ url: local.info.url, token: local.token });
}
