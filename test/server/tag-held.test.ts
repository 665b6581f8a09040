/**
 * `dstack tags add` names a run: a job's id tags its run, and a run with another tag is refused,
 * naming the commands that rename it. On the real API and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { callApi } from './app-fixture.js';
import { engineWith } from './engine-fixture.js';

const A = 'aaaaaaaaaaaa';
const RUN = 'calm-owl-1';

async function doneRun() {
  const { engine, app } = await engineWith([[A, 'DONE', []]], { name: RUN, project: 'github.com/a/b' });
  const user = await issueToken(engine.store, 'user', 'u', false);
  return { engine, tag: (tag: string, run: string) => callApi(app, user, 'POST', '/api/tags', { tag, run }) };
}

describe('tags add', () => {
  it("tags a job's run by the job's id", async () => {
    const { engine, tag } = await doneRun();
    expect(await tag('v1', A)).toMatchObject({ status: 201, json: { name: RUN, tag: 'v1' } });
    expect((await engine.store.getRun(RUN))?.tag).toBe('v1');
  });

  it('refuses a run that has another tag, naming the commands that rename it, and keeps its tag', async () => {
    const { engine, tag } = await doneRun();
    expect((await tag('v1', RUN)).status).toBe(201);
    expect(await tag('v1', RUN)).toMatchObject({ status: 200, json: { unchanged: true } });
    const again = await tag('v2', A);
    expect(again.status).toBe(409);
    expect((again.json.error as { message: string }).message).toBe(
      `run ${RUN} has the tag 'v1' already, and a run has one tag; to rename it, delete the old one first ` +
        "(a depends-on ':v1' then finds no run): dstack tags delete v1 --project github.com/a/b && dstack tags add v2 calm-owl-1",
    );
    expect((await engine.store.getRun(RUN))?.tag).toBe('v1');
  });
});
