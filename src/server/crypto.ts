/**
 * The server key: a random 32-byte key in `<dataDir>/server.key` (mode 0600), created on
 * first use, that encrypts secrets at rest (git credentials) with AES-256-GCM. The
 * database alone never reveals a secret: a copy of it without the key file is useless.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeFolder } from '../files/make-folder.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Sealed values start with a version, so the format can change without guessing. */
const PREFIX = 'v1:';

/** Where the server key of a data dir lives. */
export function serverKeyPath(dataDir: string): string {
  return join(dataDir, 'server.key');
}

/** Encrypts and decrypts small secrets with the server key; the key is read (or created) at first use. */
export class ServerKey {
  private key: Promise<Buffer> | undefined;

  constructor(readonly path: string) {}

  /** The key of the server whose state is in `dataDir`. */
  static forDataDir(dataDir: string): ServerKey {
    return new ServerKey(serverKeyPath(dataDir));
  }

  /**
   * Encrypt `plaintext`, bound to `context` (authenticated, not stored): a sealed value
   * copied to another record (another user's repo) fails to open there.
   */
  async seal(plaintext: string, context: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.load(), iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Decrypt what `seal` produced with the same context; throws when the key, context or bytes differ. */
  async open(sealed: string, context: string): Promise<string> {
    // Plain Errors: these are the server operator's problem, logged in full and a 500 to the caller.
    if (!sealed.startsWith(PREFIX)) throw new Error('a stored secret has an unknown format');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', await this.load(), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new Error(`a stored secret does not decrypt with ${this.path} (was the key file replaced?)`, { cause: e });
    }
  }

  private load(): Promise<Buffer> {
    // Cache the promise, not the key: two first uses at once must not create two keys.
    this.key ??= loadOrCreateKey(this.path);
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}

async function loadOrCreateKey(path: string): Promise<Buffer> {
  await makeFolder(dirname(path), 0o700);
  // Written whole beside it, then linked into place: link fails when the file exists, so two
  // first uses at once (two processes on one data dir) agree on one key, never a half-written one.
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    await link(temp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await rm(temp, { force: true });
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES) {
    throw new Error(`the server key ${path} has ${key.length} bytes, not ${KEY_BYTES}; restore it from a backup`);
  }
  // A key restored from a backup may have lost its mode; it must stay readable by the server alone.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return key;
}
