/**
 * NODE_EXTRA_CA_CERTS, applied at this process's first TLS connection instead of at its start.
 *
 * Node reads and parses that bundle before any code runs: about 40 ms for Debian's 150
 * certificates, on every CLI call and every Slurm batch job, most of which only talk plain
 * http to a server. So bin/dstack and the batch script move the variable to
 * DSTACK_DEFERRED_CA_CERTS; here it goes back for the processes this one starts (the embedded
 * server, jobs), and a TLS context built without a `ca` of its own trusts Node's bundled roots
 * plus the file's certificates, as Node would have made it.
 *
 * Node 20 has no call that adds to its default CA store (22.19 has
 * tls.setDefaultCACertificates), hence the wrapper around tls.createSecureContext: the function
 * tls.connect calls for each connection that brings no secureContext (node:https, fetch, the
 * AWS SDK), and tls.createServer for a server's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SecureContext, SecureContextOptions } from 'node:tls';

export const DEFERRED_CA_VARIABLE = 'DSTACK_DEFERRED_CA_CERTS';

/**
 * The options that shape a secure context: calls that set none of them (tls.connect passes
 * the default ciphers as its own) may share one context, as Node's default store is shared.
 */
const CONTEXT_OPTIONS = [
  'ca',
  'cert',
  'ciphers',
  'clientCertEngine',
  'crl',
  'dhparam',
  'ecdhCurve',
  'honorCipherOrder',
  'key',
  'maxVersion',
  'minVersion',
  'passphrase',
  'pfx',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'secureOptions',
  'secureProtocol',
  'sessionIdContext',
  'sessionTimeout',
  'sigalgs',
  'ticketKeys',
] as const;

interface TlsModule {
  createSecureContext(options?: SecureContextOptions): SecureContext;
  readonly rootCertificates: readonly string[];
  readonly DEFAULT_CIPHERS: string;
}

/** Undo bin/dstack's move of NODE_EXTRA_CA_CERTS, if it made one (a no-op otherwise). */
export function restoreDeferredCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_CA_VARIABLE];
  delete env[DEFERRED_CA_VARIABLE];
  if (!file) return;
  env.NODE_EXTRA_CA_CERTS = file;
  // Loaded only here: node:tls costs a start-up without the variable a few ms.
  const tls = createRequire(import.meta.url)('node:tls') as TlsModule;
  const create = tls.createSecureContext.bind(tls);
  let ca: string[] | undefined;
  let shared: SecureContext | undefined;
  tls.createSecureContext = (options) => {
    ca ??= trusted(file, tls.rootCertificates);
    if (ca.length === 0 || options?.ca !== undefined) return create(options);
    const unset = (name: (typeof CONTEXT_OPTIONS)[number]) =>
      options?.[name] === undefined || (name === 'ciphers' && options.ciphers === tls.DEFAULT_CIPHERS);
    if (CONTEXT_OPTIONS.every(unset)) return (shared ??= create({ ca }));
    return create({ ...options, ca });
  };
}

/** Node's roots and the file's certificates; none (Node's own default) when the file cannot be read, as Node warns. */
function trusted(file: string, roots: readonly string[]): string[] {
  try {
    return [...roots, readFileSync(file, 'utf8')];
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
    return [];
  }
}
