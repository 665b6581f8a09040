/**
 * A team server and an S3 store behind TLS with certificates from a private CA, trusted through
 * NODE_EXTRA_CA_CERTS. bin/dstack moves that variable aside so that Node does not parse the
 * bundle at every start (src/cli/deferred-ca.ts); the CLI, a runner and the server must still
 * trust the CA on their first connection, and a job must see the variable as the user set it.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { makeCertificates, startTlsProxy, type TlsProxy } from '../services/certificates.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { BIN } from './harness.js';
import { RemoteProject, startForegroundServer, type ForegroundServer } from './remote.js';

// A 3 MB artifact goes straight to S3 and back (presigned URLs): the runner and the CLI connect to the store.
const WORKFLOWS = `workflows:
  - name: env
    commands:
      - echo "extra=\${NODE_EXTRA_CA_CERTS-unset} deferred=\${DSTACK_DEFERRED_CA_CERTS-unset}"
  - name: big
    commands:
      - mkdir -p out && head -c 3000000 /dev/urandom > out/big.bin && sha256sum out/big.bin
    artifacts: [out]
`;

describe('servers behind TLS with a private CA in NODE_EXTRA_CA_CERTS', () => {
  let dir: string;
  let ca: string;
  const proxies: TlsProxy[] = [];
  const project = async (server: { url: string; token: string }, extraCa: string, env: Record<string, string> = {}) => {
    const p = await RemoteProject.create(server, { ...env, NODE_EXTRA_CA_CERTS: extraCa });
    await p.write({ '.dstack/workflows.yaml': WORKFLOWS });
    return p;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-private-ca-'));
    await makeCertificates(dir);
    ca = join(dir, 'ca.pem');
  });
  afterAll(async () => {
    for (const proxy of proxies) proxy.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('a team server', () => {
    let t: TestServer;
    let server: { url: string; token: string };
    let runner: ChildProcess | undefined;
    let runnerOutput = '';

    beforeAll(async () => {
      t = await startTestServer(); // no runner of its own: jobs go to the one below
      const proxy = await startTlsProxy(dir, Number(new URL(t.server.url).port));
      proxies.push(proxy);
      server = { url: proxy.url, token: t.token };
    });
    afterAll(async () => {
      runner?.kill('SIGKILL');
      await t?.stop();
    });

    it('the CLI and a runner trust the CA, and the job sees NODE_EXTRA_CA_CERTS as it was set', async () => {
      const token = await issueToken(t.server.engine.store, 'runner', 'tls-runner', false);
      const args = ['runner', 'start', '--server', server.url, '--token', token, '--work-dir', join(dir, 'runner')];
      runner = spawn(BIN, args, {
        env: { ...process.env, DSTACK_HOME: join(dir, 'runner-home'), NODE_EXTRA_CA_CERTS: ca, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const out of [runner.stdout!, runner.stderr!]) out.on('data', (c: Buffer) => (runnerOutput += c.toString()));
      const p = await project(server, ca);
      const r = await p.dstack(['run', 'env']);
      await p.dispose();
      expect(r.stderr + runnerOutput).not.toMatch(/certificate|Ignoring extra certs/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`extra=${ca} deferred=unset`);
    });

    it('without the CA the CLI fails, saying the certificate was not trusted', async () => {
      const p = await project(server, '');
      const r = await p.dstack(['status']);
      await p.dispose();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `error: cannot reach the dstack server at ${server.url}: unable to verify the first certificate`,
      );
    });

    it('a CA file that cannot be read is ignored with a warning, as Node does', async () => {
      const missing = join(dir, 'missing.pem');
      const p = await project(server, missing);
      const r = await p.dstack(['status']);
      await p.dispose();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`Warning: Ignoring extra certs from \`${missing}\`, load failed: ENOENT`);
      expect(r.stderr).toContain('unable to verify the first certificate');
    });
  });

  describe('an S3 store', () => {
    let moto: S3Server | undefined;
    let server: ForegroundServer | undefined;

    afterAll(async () => {
      await server?.stop();
      await moto?.stop();
    });

    it('the server, its runner and the CLI store and fetch artifacts through TLS', async () => {
      moto = await startMoto();
      const { bucket } = await createBucket(moto);
      const s3 = await startTlsProxy(dir, Number(new URL(moto.endpoint).port));
      proxies.push(s3);
      // The server started by bin/dstack: the AWS SDK's connections and the presigned URLs go to https.
      const env = { ...moto.env, AWS_ENDPOINT_URL: s3.url, NODE_EXTRA_CA_CERTS: ca };
      server = await startForegroundServer(['--storage', `s3://${bucket}/tls`], env);
      const p = await project(server, ca, { AWS_ENDPOINT_URL: s3.url });
      const r = await p.dstack(['run', 'big']);
      expect(r.stderr + server.output()).not.toMatch(/certificate|Ignoring extra certs/i);
      expect(r.code).toBe(0);
      const sum = /^([0-9a-f]{64}) {2}out\/big\.bin$/m.exec(r.stdout)?.[1];
      expect(sum, r.stdout).toBeDefined();
      const out = join(p.base, 'out');
      const job = JSON.parse((await p.dstack(['status', '--json'])).stdout)[0].jobs[0].id as string;
      const got = await p.dstack(['artifacts', job, '-o', out]);
      expect(got.code, got.stderr).toBe(0);
      expect(
        createHash('sha256')
          .update(await readFile(join(out, 'out', 'big.bin')))
          .digest('hex'),
      ).toBe(sum);
      await p.dispose();
    });
  });
});
