/**
 * NODE_EXTRA_CA_CERTS put back after bin/dstack moved it aside. The TLS behaviour end to end
 * (the CLI and a runner against a server behind a private CA) is in test/e2e/private-ca.test.ts;
 * here: the environment, and which contexts share the one built with the file's certificates.
 * The wrapper is this test file's own: vitest runs each file in a process of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFERRED_CA_VARIABLE, restoreDeferredCaCerts } from '../../src/cli/deferred-ca.js';
import { makeCertificates } from '../services/certificates.js';

describe('NODE_EXTRA_CA_CERTS deferred to the first TLS connection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-deferred-ca-'));
    await makeCertificates(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('changes nothing where bin/dstack moved nothing', () => {
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/etc/ca.pem' };
    const create = tls.createSecureContext;
    restoreDeferredCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/ca.pem' });
    expect(tls.createSecureContext).toBe(create);
  });

  it('puts the variable back for child processes, and builds the trusting context once for all plain connections', () => {
    const ca = join(dir, 'ca.pem');
    const env: NodeJS.ProcessEnv = { [DEFERRED_CA_VARIABLE]: ca };
    restoreDeferredCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: ca });

    const plain = tls.createSecureContext();
    // tls.connect passes the default ciphers along with the connection's own options.
    expect(tls.createSecureContext({ ciphers: tls.DEFAULT_CIPHERS })).toBe(plain);
    // A context with options of its own is its own (with the file's CA added), and one with a `ca` is left as asked.
    const strict = tls.createSecureContext({ minVersion: 'TLSv1.3' });
    expect(strict).not.toBe(plain);
    expect(tls.createSecureContext({ minVersion: 'TLSv1.3' })).not.toBe(strict);
    expect(tls.createSecureContext({ ca: tls.rootCertificates as string[] })).not.toBe(plain);
  });
});
