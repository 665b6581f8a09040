/**
 * A team server behind TLS with a certificate from a private CA, trusted through
 * NODE_EXTRA_CA_CERTS. bin/dstack moves that variable aside so that Node does not parse the
 * bundle at every start (src/cli/deferred-ca.ts); the CLI and a runner must still trust the
 * CA on their first connection, and a job must see the variable as the user set it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { makeCertificates } from '../services/certificates.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { BIN } from './harness.js';
import { RemoteProject } from './remote.js';

const WORKFLOWS = `workflows:
  - name: env
    commands:
      - echo "extra=\${NODE_EXTRA_CA_CERTS-unset} deferred=\${DSTACK_DEFERRED_CA_CERTS-unset}"
`;

describe('a server behind TLS with a private CA in NODE_EXTRA_CA_CERTS', () => {
  let t: TestServer;
  let tlsProxy: Server;
  let dir: string;
  let url: string;
  let runner: ChildProcess | undefined;
  let runnerOutput = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-private-ca-'));
    await makeCertificates(dir);
    t = await startTestServer();
    const serverPort = Number(new URL(t.server.url).port);
    // TLS ends here and the bytes go on to the server: what a reverse proxy in front of a team server does.
    tlsProxy = createServer(
      { key: await readFile(join(dir, 'server.key')), cert: await readFile(join(dir, 'server.pem')) },
      (client) => {
        const upstream = connect(serverPort, '127.0.0.1');
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      },
    );
    await new Promise<void>((resolve) => tlsProxy.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(tlsProxy.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    runner?.kill('SIGKILL');
    tlsProxy?.close();
    await t?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const project = async (extraCa: string) => {
    const p = await RemoteProject.create({ url, token: t.token }, { NODE_EXTRA_CA_CERTS: extraCa });
    await p.write({ '.dstack/workflows.yaml': WORKFLOWS });
    return p;
  };

  it('the CLI and a runner trust the CA, and the job sees NODE_EXTRA_CA_CERTS as it was set', async () => {
    const ca = join(dir, 'ca.pem');
    const token = await issueToken(t.server.engine.store, 'runner', 'tls-runner', false);
    runner = spawn(BIN, ['runner', 'start', '--server', url, '--token', token, '--work-dir', join(dir, 'runner')], {
      env: { ...process.env, DSTACK_HOME: join(dir, 'runner-home'), NODE_EXTRA_CA_CERTS: ca, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const out of [runner.stdout!, runner.stderr!]) out.on('data', (c: Buffer) => (runnerOutput += c.toString()));
    const p = await project(ca);
    const r = await p.dstack(['run', 'env']);
    await p.dispose();
    expect(r.stderr + runnerOutput).not.toMatch(/certificate|Ignoring extra certs/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`extra=${ca} deferred=unset`);
  });

  it('without the CA the CLI fails, saying the certificate was not trusted', async () => {
    const p = await project('');
    const r = await p.dstack(['status']);
    await p.dispose();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `error: cannot reach the dstack server at ${url}: unable to verify the first certificate`,
    );
  });

  it('a CA file that cannot be read is ignored with a warning, as Node does', async () => {
    const p = await project(join(dir, 'missing.pem'));
    const r = await p.dstack(['status']);
    await p.dispose();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `Warning: Ignoring extra certs from \`${join(dir, 'missing.pem')}\`, load failed: ENOENT`,
    );
    expect(r.stderr).toContain('unable to verify the first certificate');
  });
});
