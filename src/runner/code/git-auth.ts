/**
 * The environment git clones with, per kind of credential. Credentials go only into the
 * environment of the git processes (never argv, which any user of the machine can read
 * in `ps`) or into a 0600 file under a fresh 0700 folder that `cleanup` removes.
 *
 * - token: an `Authorization` header for the remote's HTTPS origin, by `GIT_CONFIG_*`.
 * - ssh-key: `GIT_SSH_COMMAND='ssh -i KEYFILE -o IdentitiesOnly=yes ...'`; a passphrase is
 *   answered by an askpass script that reads it from the environment.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNever } from '../../core/errors.js';
import type { RepoCredential } from '../../core/repos.js';
import type { GitContext } from './git.js';

export interface GitAuth extends GitContext {
  /** Remove the key file and askpass script, if any. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Env var the askpass script reads; in git's environment only, never in a job's. */
const PASSPHRASE_VAR = 'DSTACK_GIT_SSH_PASSPHRASE';

/** Quote for the shell that runs GIT_SSH_COMMAND. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `https://host:port/` of an HTTP(S) remote (the header is sent there only), else undefined. */
export function httpOrigin(remote: string): string | undefined {
  try {
    const url = new URL(remote);
    return url.protocol === 'https:' || url.protocol === 'http:' ? `${url.origin}/` : undefined;
  } catch {
    return undefined;
  }
}

/** The runner's environment for git, less dstack's own settings, never prompting. */
function baseEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('DSTACK_')) env[k] = v;
  // A clone that needs a credential it lacks must fail, not wait for a human at a terminal.
  env.GIT_TERMINAL_PROMPT = '0';
  // Remote URLs come from users: no `ext::` (runs commands) or other exotic transports.
  env.GIT_ALLOW_PROTOCOL = 'file:git:http:https:ssh';
  return env;
}

/** Add one `git -c` setting through the environment, after any the runner already has. */
function addConfig(env: NodeJS.ProcessEnv, key: string, value: string): void {
  const n = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  env[`GIT_CONFIG_KEY_${n}`] = key;
  env[`GIT_CONFIG_VALUE_${n}`] = value;
  env.GIT_CONFIG_COUNT = String(n + 1);
}

/** `ctx` with `git -c` settings added (through the environment, as the credentials' are). */
export function withConfig(ctx: GitContext, settings: Record<string, string>): GitContext {
  const env = { ...ctx.env };
  for (const [key, value] of Object.entries(settings)) addConfig(env, key, value);
  return { ...ctx, env };
}

/** Build git's environment for cloning `remote` with `credential`; call `cleanup` when done. */
export async function gitAuth(
  remote: string,
  credential: RepoCredential,
  base: NodeJS.ProcessEnv = process.env,
): Promise<GitAuth> {
  const env = baseEnv(base);
  switch (credential.kind) {
    case 'none':
      return { env, secrets: [], cleanup: async () => {} };
    case 'token': {
      const origin = httpOrigin(remote);
      const basic = Buffer.from(`x-access-token:${credential.token}`).toString('base64');
      // Only for an HTTP(S) remote, and only to its origin: a redirect elsewhere does not get the token.
      if (origin) addConfig(env, `http.${origin}.extraHeader`, `Authorization: Basic ${basic}`);
      return { env, secrets: [credential.token, basic], cleanup: async () => {} };
    }
    case 'ssh-key': {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-git-'));
      const keyFile = join(dir, 'id');
      const key = credential.privateKey.endsWith('\n') ? credential.privateKey : `${credential.privateKey}\n`;
      await writeFile(keyFile, key, { mode: 0o600 });
      const ssh = ['ssh', '-i', shellQuote(keyFile), '-o IdentitiesOnly=yes', '-o StrictHostKeyChecking=accept-new'];
      ssh.push('-o ConnectTimeout=30');
      const secrets = [credential.privateKey.trim()];
      if (credential.passphrase) {
        const askpass = join(dir, 'askpass');
        await writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' "$${PASSPHRASE_VAR}"\n`, { mode: 0o700 });
        Object.assign(env, {
          SSH_ASKPASS: askpass,
          SSH_ASKPASS_REQUIRE: 'force',
          [PASSPHRASE_VAR]: credential.passphrase,
        });
        secrets.push(credential.passphrase);
      } else {
        ssh.push('-o BatchMode=yes'); // no prompt for anything: fail at once
      }
      env.GIT_SSH_COMMAND = ssh.join(' ');
      return { env, secrets, cleanup: () => rm(dir, { recursive: true, force: true }) };
    }
    default:
      return assertNever(credential, 'credential kind');
  }
}
