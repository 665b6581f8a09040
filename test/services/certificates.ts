/** A private CA and a server certificate it signed for localhost, made with Debian's openssl. */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`openssl failed (scripts/install-test-deps.sh installs it): ${(e as Error).message}`);
  }
}

/** Writes ca.pem (the CA), server.key and server.pem (for localhost) into `dir`. */
export async function makeCertificates(dir: string): Promise<void> {
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  const newKey = ['-newkey', 'rsa:2048', '-nodes'];
  openssl(
    ['req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=dstack test CA'],
    dir,
  );
  openssl(['req', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  const sign = ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'];
  openssl([...sign, '-days', '2', '-out', 'server.pem', '-extfile', 'san.ext'], dir);
}
