/**
 * The credential `dstack init` registers, from its flags: an HTTPS token, an SSH private
 * key file (with its passphrase), or none. Checked here, before anything is sent, so a
 * wrong file or a key that needs a passphrase is reported at once with its path.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.js';
import type { RepoCredential } from '../../core/repos.js';
import { secretFlag as valueOf } from '../secret-flag.js';

/** `dstack init` flags. `-` as the token or passphrase reads it from stdin (out of `ps` and shell history). */
export interface InitOptions {
  token?: string;
  privateKey?: string;
  passphrase?: string;
}

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const OPENSSH_MAGIC = 'openssh-key-v1\0';

/** True when the key needs a passphrase: PEM says ENCRYPTED; OpenSSH names a cipher other than none. */
export function isEncryptedKey(key: string): boolean {
  if (/ENCRYPTED/.test(key)) return true;
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(key)?.[1];
  if (body === undefined) return false;
  const raw = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (raw.subarray(0, OPENSSH_MAGIC.length).toString('latin1') !== OPENSSH_MAGIC) return false;
  const length = raw.readUInt32BE(OPENSSH_MAGIC.length);
  const start = OPENSSH_MAGIC.length + 4;
  return raw.subarray(start, start + length).toString('latin1') !== 'none';
}

async function readKey(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`cannot read the private key file ${path}: ${why}`, { cause: e });
  }
}

/** The credential the flags describe; UsageError for a bad combination or an unusable key file. */
export async function credentialFrom(options: InitOptions): Promise<RepoCredential> {
  const { token, privateKey, passphrase } = options;
  if (token !== undefined && privateKey !== undefined) {
    throw new UsageError('--token and --private-key exclude each other: an https remote takes a token, ssh a key');
  }
  if (passphrase !== undefined && privateKey === undefined) {
    throw new UsageError('--passphrase goes with --private-key: it is the passphrase of that key');
  }
  if (token !== undefined) return { kind: 'token', token: await valueOf('--token', token) };
  if (privateKey === undefined) return { kind: 'none' };
  if (privateKey.trim() === '')
    throw new UsageError("--private-key is empty: give the key file's path (~/.ssh/id_ed25519)");

  const key = await readKey(privateKey);
  if (!PRIVATE_KEY.test(key)) {
    throw new UsageError(
      `${privateKey} is not a private key (it should start with "-----BEGIN ... PRIVATE KEY-----"; ` +
        'pass the key file such as ~/.ssh/id_ed25519, not the .pub file)',
    );
  }
  if (passphrase === undefined) {
    if (isEncryptedKey(key)) {
      throw new UsageError(`${privateKey} is protected by a passphrase: pass it with --passphrase (- reads stdin)`);
    }
    return { kind: 'ssh-key', privateKey: key };
  }
  return { kind: 'ssh-key', privateKey: key, passphrase: await valueOf('--passphrase', passphrase) };
}
