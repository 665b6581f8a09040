/** `dstack init`'s refusals: each says what is wrong and, where it can, what to do. */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';
import { git } from './repos-project.js';

describe('dstack init errors', () => {
  let sb: Sandbox;
  let outside: string;
  beforeAll(async () => {
    sb = await Sandbox.create();
    git(sb.root, 'init', '-q', '-b', 'main');
    outside = join(dirname(sb.root), 'not-a-repo');
    await mkdir(outside);
  });
  afterAll(() => sb.dispose());

  const init = (args: string[], cwd?: string) => sb.dstack(['init', ...args], cwd ? { cwd } : {});

  it('outside a git repository it says so', async () => {
    const r = await init([], outside);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${outside} is not in a git repository; dstack init registers a repository's`);
  });

  it("without a remote 'origin' it says how to add one", async () => {
    const r = await init([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: the git repository ${sb.root} has no remote 'origin'; add one with: git remote add origin URL`,
    );
  });

  it('a missing key file is named', async () => {
    const missing = join(outside, 'no-such-key');
    const r = await init(['--private-key', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: cannot read the private key file ${missing}: no such file`);
  });

  it('a public key (or any file that is not a private key) is refused', async () => {
    const pub = join(outside, 'id.pub');
    await writeFile(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test@dstack\n');
    const r = await init(['--private-key', pub]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: ${pub} is not a private key (it should start with "-----BEGIN ... PRIVATE KEY-----"`,
    );
  });

  it('a key protected by a passphrase needs --passphrase', async () => {
    const key = join(outside, 'id_locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-words', '-f', key]);
    const r = await init(['--private-key', key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${key} is protected by a passphrase: pass it with --passphrase (- reads stdin)`);
  });

  it('--token and --private-key together are refused', async () => {
    const r = await init(['--token', 't', '--private-key', 'k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --token and --private-key exclude each other');
  });

  it('--passphrase alone is refused', async () => {
    const r = await init(['--passphrase', 'p']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --passphrase goes with --private-key: it is the passphrase of that key');
  });

  it('an empty token is refused', async () => {
    const r = await init(['--token', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --token is empty');
  });
});
