/**
 * A submission's answer says why each job the cache did not answer runs anew, against the last
 * DONE job of its ref among the submitter's own runs of the project: through the real engine
 * over a real SQLite store and blob folder.
 */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

const train = (seed: string, artifacts: string[] = []): JobSpec[] => [
  makeSpec('train', { commands: [`python3 train.py --seed ${seed}`], variables: { seed }, artifacts }),
];

async function setup() {
  const { engine } = await engineWith([]);
  const code = (text: string) =>
    putBlob(engine, JSON.stringify({ files: [{ path: 'train.py', size: 1, mode: 0o644, digest: text.repeat(64) }] }));
  const submit = async (user: string, jobs: JobSpec[], codeDigest: string, noCache = false) =>
    submitRun(engine, user, { workflow: 'train', overrides: {}, repo: { root: '/p' }, codeDigest, jobs, noCache });
  return { engine, code, submit };
}

describe('why a submitted job runs anew', () => {
  it('names what changed since the last DONE job of its ref: variables, then code', async () => {
    const { engine, code, submit } = await setup();
    const [a, b] = [await code('a'), await code('b')];
    const first = await submit('alice', train('42'), a);
    expect(first.anew).toBeUndefined(); // nothing ran before
    await finish(engine, first.jobs[0]!.id);
    expect((await submit('alice', train('7'), a)).anew).toEqual({
      train: `variable seed 42 → 7 (since job ${first.jobs[0]!.id})`,
    });
    expect((await submit('alice', train('42'), b)).anew).toEqual({
      train: `train.py changed (since job ${first.jobs[0]!.id})`,
    });
  });

  it("compares with the submitter's own runs only, and says nothing with --no-cache", async () => {
    const { engine, code, submit } = await setup();
    const a = await code('a');
    await finish(engine, (await submit('alice', train('42'), a)).jobs[0]!.id);
    expect((await submit('bob', train('7'), a)).anew).toBeUndefined();
    expect((await submit('alice', train('7'), a, true)).anew).toBeUndefined();
  });

  it('says when the same job ran, and its artifacts are no longer stored', async () => {
    const { engine, code, submit } = await setup();
    const a = await code('a');
    const first = await submit('alice', train('42', ['model']), a); // finished with no manifest stored
    await finish(engine, first.jobs[0]!.id);
    expect((await submit('alice', train('42', ['model']), a)).anew).toEqual({
      train: `job ${first.jobs[0]!.id} did the same, and its artifacts are no longer stored`,
    });
  });
});
