/**
 * A job an admin stops says so to its owner (`stopped by admin (root)`), not `stopped by user`
 * as if the owner had; the owner's own stop reads as before. Events name each actor `user:NAME`,
 * the submit's too. On the real app over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';

async function aliceRun() {
  const { store, engine, app } = await testApp('stop-by-admin');
  const admin = await issueToken(store, 'user', 'root', true);
  const alice = await issueToken(store, 'user', 'alice', false);
  const manifest = JSON.stringify({ files: [] });
  const codeDigest = createHash('sha256').update(manifest).digest('hex');
  await engine.blobs.put(codeDigest, Readable.from([Buffer.from(manifest)]));
  const submit = () =>
    submitRun(engine, 'alice', {
      workflow: 'train',
      overrides: {},
      repo: { root: '/' },
      codeDigest,
      jobs: [makeSpec('train')],
      noCache: true,
    });
  return { store, app, admin, alice, submit };
}

describe('a stop by an admin', () => {
  it("reads 'stopped by admin (NAME)' and 'aborted by admin (NAME)' on another user's jobs", async () => {
    const { store, app, admin, submit } = await aliceRun();
    const stopped = await submit();
    expect((await callApi(app, admin, 'POST', '/api/stop', { target: stopped.name })).status).toBe(200);
    const job = (await store.jobsOfRuns([stopped.name]))[0]!;
    expect([job.status, job.reason]).toEqual(['STOPPED', 'stopped by admin (root)']);
    expect((await store.events(job.id)).map((e) => e.actor)).toEqual(['user:alice', 'user:root']);

    const aborted = await submit();
    await callApi(app, admin, 'POST', '/api/stop', { target: aborted.name, abort: true });
    const abortedJob = (await store.jobsOfRuns([aborted.name]))[0]!;
    expect([abortedJob.status, abortedJob.reason]).toEqual(['ABORTED', 'aborted by admin (root)']);
  });

  it("reads 'stopped by user' when the owner stops it", async () => {
    const { store, app, alice, submit } = await aliceRun();
    const run = await submit();
    expect((await callApi(app, alice, 'POST', '/api/stop', { target: run.name })).status).toBe(200);
    const job = (await store.jobsOfRuns([run.name]))[0]!;
    expect([job.status, job.reason]).toEqual(['STOPPED', 'stopped by user']);
  });
});
