/** A private CA, a server certificate it signed for localhost (Debian's openssl), and a TLS proxy that uses it. */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:tls';

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

export interface TlsProxy {
  /** https://localhost:PORT */
  url: string;
  close(): void;
}

/**
 * TLS on a free port with the certificate of makeCertificates(dir), the bytes passed on to
 * `targetPort` on 127.0.0.1: what a reverse proxy in front of a team server or an S3 store does.
 */
export async function startTlsProxy(dir: string, targetPort: number): Promise<TlsProxy> {
  const [key, cert] = await Promise.all([readFile(join(dir, 'server.key')), readFile(join(dir, 'server.pem'))]);
  const server = createServer({ key, cert }, (client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://localhost:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
