/**
 * Real S3-compatible servers for tests: moto_server (Python, preinstalled on the dev and
 * CI machines) and s3rver (npm, in-process). Each test makes a bucket of its own.
 * A server that cannot be started fails the test with how to get it; nothing is skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { createS3Client, type S3Settings } from '../../src/server/storage/s3-client.js';
import { freePort } from './free-port.js';

export interface S3Server {
  name: 'moto' | 's3rver';
  endpoint: string;
  /** Credentials the server accepts, as AWS_* environment variables (for child processes too). */
  env: Record<string, string>;
  settings: S3Settings;
  stop(): Promise<void>;
}

/** What the SDK reads from the environment; the store itself takes endpoint and region explicitly. */
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** Credentials go through the environment, as they would for a real deployment. */
export function useTestCredentials(): void {
  Object.assign(process.env, CREDENTIALS);
}

function serverInfo(name: S3Server['name'], endpoint: string, stop: () => Promise<void>): S3Server {
  useTestCredentials();
  return {
    name,
    endpoint,
    env: { ...CREDENTIALS, AWS_ENDPOINT_URL: endpoint },
    settings: { endpoint, region: 'us-east-1' },
    stop,
  };
}

export async function startMoto(): Promise<S3Server> {
  const command = process.env.MOTO_SERVER || 'moto_server';
  const port = await freePort();
  const child: ChildProcess = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const endpoint = `http://127.0.0.1:${port}`;
  const how =
    "moto_server is preinstalled on dstack's dev and CI machines; elsewhere: pip install 'moto[server]' (scripts/install-test-deps.sh does), or set MOTO_SERVER to its path";
  const deadline = Date.now() + 30_000;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    if (failed) throw new Error(`cannot start ${command}: ${failed.message}. ${how}`);
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}: ${stderr}\n${how}`);
    const ok = await fetch(endpoint).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not answer on ${endpoint} within 30 s: ${stderr}\n${how}`);
    }
  }
  return serverInfo('moto', endpoint, async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });
}

export async function startS3rver(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'dstack-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = (await server.run()) as { port: number };
  return serverInfo('s3rver', `http://127.0.0.1:${address.port}`, async () => {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });
}

/** A bucket no other test uses, and a client for it. */
export async function createBucket(server: S3Server): Promise<{ bucket: string; s3: S3Client }> {
  const s3 = createS3Client(server.settings);
  const bucket = `dstack-test-${randomBytes(6).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, s3 };
}
