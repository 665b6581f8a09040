/**
 * `dstack init` credentials: sealed with the server key, so that neither the token, nor
 * the private key, nor its passphrase is ever in the database (or its WAL), the server
 * log, or an answer of the user API; and clones still work with them registered.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readLocalServer } from '../../src/client/embedded.js';
import { RunnerClient } from '../../src/client/runner-client.js';
import { BIN, Sandbox, type Result } from './harness.js';
import { localClient, makeProject } from './repos-project.js';

const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const PASSPHRASE = `pass-${randomBytes(8).toString('hex')}`;

describe('dstack init credentials', () => {
  let sb: Sandbox;
  let bare: string;
  let keyFile: string;
  let keyText: string;
  /** Every answer a user got, to be searched for secrets. */
  const answers: string[] = [];
  const record = (r: Result) => (answers.push(r.stdout, r.stderr), r);
  /** Pieces of the secrets long enough to be unmistakable: the token, the passphrase, each line of the key. */
  const secrets = () => [
    TOKEN,
    PASSPHRASE,
    ...keyText.split('\n').filter((l) => l.length > 20 && !l.startsWith('---')),
  ];
  const serverFiles = () => ['dstack.db', 'dstack.db-wal', 'server.log'].map((f) => join(sb.home, 'server', f));

  async function expectNoSecretIn(paths: string[]): Promise<void> {
    for (const path of paths) {
      const content = await readFile(path).catch(() => Buffer.alloc(0));
      for (const secret of secrets()) expect(content.includes(secret), `${secret} in ${path}`).toBe(false);
    }
  }

  /** `dstack init ARGS` with `input` on its stdin. */
  const initWithStdin = (args: string[], input: string): Promise<Result> =>
    new Promise((resolve) => {
      const child = execFile(BIN, ['init', ...args], { cwd: sb.root, env: sb.env() }, (e, o, r) =>
        resolve({ code: e ? Number(e.code ?? 1) : 0, stdout: o, stderr: r }),
      );
      child.stdin?.end(input);
    });

  beforeAll(async () => {
    sb = await Sandbox.create();
    bare = await makeProject(sb);
    keyFile = join(dirname(sb.root), 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'dstack-test', '-f', keyFile]);
    keyText = await readFile(keyFile, 'utf8');
  });
  afterAll(() => sb.dispose());

  it('--token - reads the token from stdin; the API shows only its kind; runs still clone', async () => {
    const init = record(await initWithStdin(['--token', '-'], `${TOKEN}\n`));
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`registered ${bare} (credentials: HTTPS token)`);
    expect(init.stdout).not.toContain('for a private repository');
    expect(init.stderr).toContain(`warning: --token is for https remotes; runners will not use it for ${bare}`);

    const run = record(await sb.dstack(['run', 'list']));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`files from ${bare}`);

    const listed = await (await localClient(sb)).listRepos();
    answers.push(JSON.stringify(listed));
    expect(listed).toStrictEqual([{ remote: bare, credential: 'token', createdAt: expect.any(Number) }]);
  });

  it('the server key is created on first use: 32 random bytes, readable by the server alone', async () => {
    const path = join(sb.home, 'server', 'server.key');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path)).length).toBe(32);
  });

  it('--private-key with --passphrase replaces the token with the key', async () => {
    const init = record(await sb.dstack(['init', '--private-key', keyFile, '--passphrase', PASSPHRASE]));
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`registered ${bare} (credentials: SSH key)`);
    expect(init.stdout).not.toContain('for a private repository');
    const client = await localClient(sb);
    const view = await client.registerRepo({
      remote: bare,
      credential: { kind: 'ssh-key', privateKey: keyText, passphrase: PASSPHRASE },
    });
    answers.push(JSON.stringify(view));
    expect(Object.keys(view).sort()).toStrictEqual(['createdAt', 'credential', 'remote']);

    const run = record(await sb.dstack(['run', 'list', '--no-cache']));
    expect(run.code, run.stderr).toBe(0);
    answers.push(JSON.stringify(await client.listRepos()), JSON.stringify(await client.listRuns({ last: 10 })));
    record(await sb.dstack(['status', '--last', '5', '--json']));
  });

  it("user tokens cannot ask for a job's clone credentials", async () => {
    const local = (await readLocalServer(sb.home))!;
    const userAsRunner = new RunnerClient({ url: local.info.url, token: local.token });
    await expect(userAsRunner.codeSource('000000000000')).rejects.toThrow('this route is for runner tokens');
  });

  it('no secret is in the database, its WAL, the server log or any answer to the user', async () => {
    // The files searched are the right ones: the repo is in them, its credential sealed.
    // Info lines reach the log within a batch window (logger.ts).
    await vi.waitFor(async () =>
      expect(await readFile(join(sb.home, 'server', 'server.log'), 'utf8')).toContain(`repo ${bare} registered`),
    );
    const [db, wal] = await Promise.all(
      serverFiles()
        .slice(0, 2)
        .map((f) => readFile(f).catch(() => Buffer.alloc(0))),
    );
    expect(Buffer.concat([db!, wal!]).includes(bare)).toBe(true);
    await expectNoSecretIn(serverFiles());
    for (const answer of answers) for (const secret of secrets()) expect(answer).not.toContain(secret);
    // Stopped, SQLite folds the WAL into the database file: still nothing.
    await sb.dstack(['server', 'stop']);
    await expectNoSecretIn(serverFiles());
  });
});
