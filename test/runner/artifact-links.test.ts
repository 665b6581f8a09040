/**
 * An artifact path that is a link the runner cannot follow: the job's log says it is a link and
 * where it points, where it said the path did not exist.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpec } from '../store/fixtures.js';
import { claimedJob } from './claimed-job.js';

describe('an artifact path that is a link leading nowhere on the runner', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('is named as a link, with its target, in a workspace', async () => {
    const spec = makeSpec('dangling', { commands: ['ln -s /no/such/dstack-model model'], artifacts: ['model'] });
    const { engine, id, run, log } = await claimedJob(spec, cleanup);
    await run.run();
    expect((await engine.store.getJob(id))?.status).toBe('DONE');
    expect(await log(id)).toContain(
      "[dstack] artifact 'model' is a link to /no/such/dstack-model, which does not exist in the workspace; nothing saved for it\n",
    );
  });

  it("is named as a link to a container path, with the path to declare instead, in a container's tree", async () => {
    // The job's container tree is the folder beside its workspace (container-root.ts); a job in a
    // container that links its declared path elsewhere (`/ckpt -> /data/ckpt`) leaves this there.
    const spec = makeSpec('linked', {
      commands: ['mkdir -p ../container && ln -s /data/ckpt ../container/ckpt'],
      artifacts: ['/ckpt'],
    });
    const { engine, id, run, log } = await claimedJob(spec, cleanup);
    await run.run();
    expect((await engine.store.getJob(id))?.status).toBe('DONE');
    expect(await log(id)).toContain(
      "[dstack] artifact '/ckpt' is a link to /data/ckpt, which the runner does not follow (only the declared paths of a container are kept on the runner); nothing saved for it: declare '/data/ckpt' instead\n",
    );
  });
});
