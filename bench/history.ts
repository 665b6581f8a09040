/**
 * A server with a year of history: where its listings, tag checks, prunes and a 10,000-job
 * submission spend their time, and how long each holds other callers.
 *
 *   npx tsx bench/history.ts [RUNS=99000] [--only tags,status,prune,submit]
 *
 * The history (RUNS runs of 3 jobs, most DONE, a few FAILED, STOPPED or ABORTED, one in a
 * hundred submitted with `--tag nightly`, each train job with a 10-file artifact manifest) is
 * made once into `$TMPDIR/dstack-history-RUNS.db` and copied for every measurement.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { JobStatus } from '../src/core/job-status.js';
import type { JobRecord, RunRecord } from '../src/core/records.js';
import { silentLogger } from '../src/logger.js';
import { Engine } from '../src/server/engine.js';
import { prune } from '../src/server/prune.js';
import { listRuns } from '../src/server/queries.js';
import { LocalBlobStore } from '../src/server/storage/local-blob-store.js';
import { LogStore } from '../src/server/storage/log-store.js';
import { submitRun } from '../src/server/submit.js';
import { checkTagFree } from '../src/server/tag-check.js';
import { openSqliteStore } from '../src/server/store/sqlite.js';
import { makeJob, makeRun, makeSpec } from '../test/store/fixtures.js';

const RUNS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 99_000);
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1]!.split(',')) : undefined;
const wanted = (what: string) => only === undefined || only.has(what);
const DAY = 86_400_000;
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function statusOf(i: number): JobStatus {
  if (i % 5000 === 17) return 'ABORTED';
  if (i % 200 === 3) return 'STOPPED';
  if (i % 50 === 7) return 'FAILED';
  return 'DONE';
}

async function makeHistory(path: string): Promise<void> {
  const store = await openSqliteStore(path);
  const now = Date.now();
  for (let i = 0; i < RUNS; i++) {
    const run: RunRecord = makeRun(`hist-${i}`, {
      submittedAt: now - 365 * DAY + Math.floor((i * 365 * DAY) / RUNS),
      user: ['ada', 'bob', 'cy'][i % 3]!,
      codeDigest: hex(`code ${i % 500}`),
      ...(i % 100 === 5 ? { tagOnDone: 'nightly' } : {}),
    });
    const last = statusOf(i);
    const ids = ['p', 't', 'e'].map((r) => hex(`${i}${r}`).slice(0, 12));
    const jobs: JobRecord[] = ['prepare', 'train', 'eval'].map((ref, k) =>
      makeJob(run, ref, {
        id: ids[k]!,
        status: k === 2 ? last : 'DONE',
        dependsOn: k === 0 ? [] : [ids[k - 1]!],
        cacheKey: hex(`key ${i} ${ref}`),
        finishedAt: run.submittedAt + 60_000,
      }),
    );
    await store.createRun(run, jobs, 'bench');
    const files = Array.from({ length: 10 }, (_, f) => ({
      path: `out/${f}.bin`,
      size: 1000,
      mode: 0o644,
      digest: hex(`artifact ${i} ${f}`),
    }));
    await store.setArtifacts(ids[1]!, { artifacts: [{ path: 'out', files }] } as never);
  }
  await store.close();
}

async function engineOn(template: string) {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-history-'));
  await copyFile(template, join(dir, 'dstack.db'));
  const store = await openSqliteStore(join(dir, 'dstack.db'));
  const engine = new Engine({
    store,
    blobs: new LocalBlobStore(join(dir, 'blobs')),
    logs: new LogStore(join(dir, 'logs')),
    logger: silentLogger,
  });
  // Each copy is as big as the history (150 MB at 99,000 runs): removed once measured.
  const close = async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, store, engine, close };
}

async function median(n: number, f: () => Promise<unknown>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return `${times[Math.floor(n / 2)]!.toFixed(2)} ms (min ${times[0]!.toFixed(2)}, max ${times.at(-1)!.toFixed(2)})`;
}

/**
 * Run `f` while a submission-like caller takes the engine's lock every 5 ms: the longest gap
 * between two of its turns (the lock held, or the event loop stalled: a caller waits either
 * way), the longest event-loop stall, peak heap.
 */
async function held(engine: Engine, f: () => Promise<unknown>) {
  let done = false;
  let lockWait = 0;
  let peakHeap = process.memoryUsage().heapUsed;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const poller = (async () => {
    let last = performance.now();
    for (;;) {
      await engine.serialize(async () => undefined);
      lockWait = Math.max(lockWait, performance.now() - last);
      last = performance.now();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      if (done) break; // after one more turn: work that never let the timer fire counts too
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const t = performance.now();
  const result = await f();
  const total = performance.now() - t;
  done = true;
  await poller;
  await new Promise((r) => setTimeout(r, 20)); // a tick after the work, to record a stall that held it all
  loop.disable();
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  return {
    result,
    line: `total ${total.toFixed(0)} ms, longest gap between turns ${lockWait.toFixed(0)} ms, longest loop stall ${(loop.max / 1e6).toFixed(0)} ms, peak heap ${mb(peakHeap)}`,
  };
}

async function main(): Promise<void> {
  const template = join(tmpdir(), `dstack-history-${RUNS}.db`);
  if (!(await stat(template).catch(() => undefined))) {
    const t = performance.now();
    await makeHistory(template);
    console.log(`made ${RUNS} runs in ${((performance.now() - t) / 1000).toFixed(0)} s: ${template}`);
  }
  const admin = { hash: '', kind: 'user' as const, name: 'ada', admin: true, createdAt: 0 };
  if (wanted('tags')) {
    const { engine, store, close } = await engineOn(template);
    const scope = { user: 'ada', project: makeRun('x').project };
    console.log(`tag check (free tag):      ${await median(30, () => checkTagFree(engine, scope, 'fresh'))}`);
    console.log(`tag check (nightly):       ${await median(30, () => store.runPromisedTag(scope, 'nightly'))}`);
    console.log(`promised tags (tags list): ${await median(30, () => store.promisedTagRuns())}`);
    await close();
  }
  if (wanted('status')) {
    const { store, close } = await engineOn(template);
    for (const status of ['ABORTED', 'STOPPED', 'FAILED', 'DONE', 'RUNNING'] as const)
      console.log(
        `runs?status=${status}&last=50: ${await median(30, () => listRuns(store, admin, { last: 50, status }))}`,
      );
    await close();
  }
  if (wanted('prune')) {
    for (const dryRun of [true, false]) {
      const { engine, close } = await engineOn(template);
      const { result, line } = await held(engine, () => prune(engine, 30 * DAY, { dryRun }));
      console.log(`prune${dryRun ? ' --dry-run' : ''}: ${(result as { runs: string[] }).runs.length} runs; ${line}`);
      await close();
    }
  }
  if (wanted('submit')) {
    const { engine, store, close } = await engineOn(template);
    const manifest = Buffer.from(JSON.stringify({ files: [] }));
    const codeDigest = hex(manifest.toString());
    await engine.blobs.put(codeDigest, Readable.from([manifest]));
    const jobs = Array.from({ length: 10_000 }, (_, i) =>
      makeSpec(`j${i}`, { dependsOn: i < 100 ? [] : [{ ref: `j${i % 100}` }] }),
    );
    const request = { workflow: 'big', overrides: {}, repo: { root: '/' }, codeDigest, jobs };
    const at = Date.now();
    const pool = { cpu: 64, memory: 256e9, gpus: [] };
    await store.upsertRunner({
      name: 'pool-1',
      host: 'h',
      total: pool,
      status: 'ACTIVE',
      updatedAt: at,
      registeredAt: at,
    });
    const reps = [
      ['with a runner that fits (the first: compiling, preparing)', false],
      ['with a runner that fits, once more', true],
      ['joining the first', false],
      ['--no-cache', true],
      ['--no-cache, no runner online (each job told why it waits)', true],
    ] as const;
    for (const [i, [what, noCache]] of reps.entries()) {
      if (i === reps.length - 1) await store.setRunnerStatus('pool-1', 'LOST');
      const { line } = await held(engine, () => submitRun(engine, 'ada', { ...request, noCache }));
      console.log(`10,000-job submission, ${what}: ${line}`);
    }
    await close();
  }
}

await main();
