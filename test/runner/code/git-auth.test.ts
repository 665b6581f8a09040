/**
 * The environment a runner's git runs with: credentials only in the environment or a 0600
 * file that is gone afterwards; and a real clone over "ssh" through GIT_SSH_COMMAND, with
 * `ssh` a stand-in that checks the key file and runs git's command locally.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gitAuth } from '../../../src/runner/code/git-auth.js';
import { mirrorPath, mirrorWithCommit } from '../../../src/runner/code/mirror.js';

const run = promisify(execFile);
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-but-secret-text\n-----END OPENSSH PRIVATE KEY-----';

/** The key file named in GIT_SSH_COMMAND. */
const keyFileOf = (command: string | undefined) => /-i '([^']+)'/.exec(command ?? '')![1]!;

describe('gitAuth', () => {
  it('an SSH key goes into a 0600 file named by GIT_SSH_COMMAND, removed by cleanup', async () => {
    const auth = await gitAuth('git@github.com:ada/gpt-2.git', { kind: 'ssh-key', privateKey: KEY });
    const command = auth.env.GIT_SSH_COMMAND!;
    expect(command).toMatch(/^ssh -i '[^']+' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new /);
    expect(command).toContain('-o BatchMode=yes');
    const file = keyFileOf(command);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(file, '..'))).mode & 0o777).toBe(0o700);
    expect(await readFile(file, 'utf8')).toBe(`${KEY}\n`);
    expect(JSON.stringify(auth.env)).not.toContain('not-a-real-key');
    await auth.cleanup();
    await expect(stat(file)).rejects.toThrow('ENOENT');
    await expect(stat(join(file, '..'))).rejects.toThrow('ENOENT');
  });

  it('a passphrase is answered by an askpass script from the environment, not written to disk', async () => {
    const auth = await gitAuth('ssh://git@host/r.git', { kind: 'ssh-key', privateKey: KEY, passphrase: 'pass phrase' });
    try {
      expect(auth.env.GIT_SSH_COMMAND).not.toContain('BatchMode');
      expect(auth.env.SSH_ASKPASS_REQUIRE).toBe('force');
      const script = auth.env.SSH_ASKPASS!;
      expect(await readFile(script, 'utf8')).not.toContain('pass phrase');
      const { stdout } = await run(script, [], { env: auth.env });
      expect(stdout).toBe('pass phrase\n');
      expect(auth.secrets).toContain('pass phrase');
    } finally {
      await auth.cleanup();
    }
  });

  it('a token becomes an Authorization header for the remote origin only, through GIT_CONFIG_*', async () => {
    const base = { PATH: process.env.PATH, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'a.b', DSTACK_TOKEN: 'dst_x' };
    const auth = await gitAuth('https://github.com:443/ada/gpt-2.git', { kind: 'token', token: 'ghp_abc' }, base);
    expect(auth.env).toMatchObject({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'a.b',
      GIT_CONFIG_KEY_1: 'http.https://github.com/.extraHeader',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
    });
    const header = auth.env.GIT_CONFIG_VALUE_1!;
    expect(Buffer.from(header.replace('Authorization: Basic ', ''), 'base64').toString()).toBe(
      'x-access-token:ghp_abc',
    );
    expect(auth.env.DSTACK_TOKEN).toBeUndefined();
    expect(auth.secrets).toEqual(expect.arrayContaining(['ghp_abc', header.replace('Authorization: Basic ', '')]));
  });

  it('a token for a remote that is not https sets no header', async () => {
    const auth = await gitAuth('/srv/git/repo.git', { kind: 'token', token: 'ghp_abc' }, {});
    expect(JSON.stringify(auth.env)).not.toContain('extraHeader');
  });
});

describe('a clone over ssh through GIT_SSH_COMMAND', () => {
  it('uses the key file (0600 while git runs) and leaves nothing behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-ssh-clone-'));
    const bare = join(dir, 'remote.git');
    const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' };
    execFileSync('git', ['init', '-q', '--bare', bare], { env });
    const work = join(dir, 'work');
    execFileSync('git', ['clone', '-q', bare, work], { env, stdio: 'ignore' });
    await writeFile(join(work, 'a.txt'), 'a\n');
    const gitIn = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: work, env }).toString();
    gitIn('add', 'a.txt');
    gitIn('commit', '-q', '-m', 'a');
    gitIn('push', '-q', 'origin', 'HEAD');
    const commit = gitIn('rev-parse', 'HEAD').trim();

    // A stand-in `ssh`: records its arguments and the key file's mode, then runs git's command here.
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const log = join(dir, 'ssh.log');
    await writeFile(
      join(bin, 'ssh'),
      `#!/bin/sh
echo "args: $*" >> '${log}'
while [ $# -gt 0 ]; do
  case "$1" in
    -i) echo "key mode: $(stat -c %a "$2")" >> '${log}'; shift 2 ;;
    -o|-p) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
shift
exec sh -c "$*"
`,
    );
    await chmod(join(bin, 'ssh'), 0o755);

    const remote = `ssh://git@example.invalid${bare}`;
    const auth = await gitAuth(remote, { kind: 'ssh-key', privateKey: KEY }, { ...env, PATH: `${bin}:${env.PATH}` });
    const keyFile = keyFileOf(auth.env.GIT_SSH_COMMAND);
    const workRoot = join(dir, 'runner');
    try {
      expect(await mirrorWithCommit(workRoot, 'ada', remote, commit, auth)).toBe(mirrorPath(workRoot, 'ada', remote));
    } finally {
      await auth.cleanup();
    }
    const logged = await readFile(log, 'utf8');
    expect(logged).toContain(`-i ${keyFile} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new`);
    expect(logged).toContain('key mode: 600');
    expect(logged).toContain('example.invalid');
    await expect(stat(keyFile)).rejects.toThrow('ENOENT');
    // The mirror has the commit; asking again needs no ssh (nothing new in the log).
    const again = await gitAuth(remote, { kind: 'none' }, { ...env, PATH: '/nonexistent' });
    await mirrorWithCommit(workRoot, 'ada', remote, commit, { ...again, env: { ...again.env, PATH: env.PATH } });
    expect(await readFile(log, 'utf8')).toBe(logged);
  });
});
