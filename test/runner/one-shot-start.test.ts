/**
 * The one-shot runner's way to its job's first command, against the real server app (in
 * process, real SQLite and blob store) and real processes: the code manifest comes with the
 * assignment, RUNNING is reported while the job starts, and the answer to that report still
 * stops or ends a job that must not go on.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { stopJobs } from '../../src/server/control.js';
import { JOB, logged, serverWithJob, sigtermAsScancel, statuses } from './one-shot-fixture.js';

describe('one-shot start', () => {
  it("gets the run's code manifest with its assignment: the job's code is written without fetching it", async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'dstack-one-shot-out-')), 'copy.txt');
    const { engine, codeDigest, manifest, client, requests, oneShot } = await serverWithJob([`cp hello.txt '${out}'`]);
    expect((await client.runnerAssignment(JOB)).code).toStrictEqual(manifest);
    expect(await oneShot()).toBe('DONE');
    expect(await readFile(out, 'utf8')).toBe('hello from the code\n');
    expect(requests).not.toContain(`GET /api/blobs/${codeDigest}`);
    // Nothing to upload: from RUNNING straight to DONE.
    expect(await statuses(engine)).toStrictEqual(['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'DONE']);
  });

  it('sends the last output and the end in one request: DONE, or FAILED with its reason', async () => {
    for (const [command, end, reason] of [
      ['echo last words', 'DONE', 'exit code 0'],
      ['echo oops; exit 3', 'FAILED', 'exit code 3'],
    ] as const) {
      const { engine, requests, oneShot } = await serverWithJob([command]);
      expect(await oneShot()).toBe(end);
      expect(await statuses(engine)).toStrictEqual(['SUBMITTED', 'DOWNLOADING', 'RUNNING', end]);
      expect((await engine.store.getJob(JOB))?.reason).toBe(reason);
      const logged: string[] = [];
      for await (const entry of engine.logs.entries(JOB)) logged.push(entry.bytes.toString());
      expect(logged).toStrictEqual([command.split(';')[0]!.replace('echo ', '')]);
      // RUNNING alone; the output and the end together.
      const reports = requests.filter((r) => r.startsWith(`POST /api/runner/jobs/${JOB}/`));
      expect(reports).toStrictEqual([`POST /api/runner/jobs/${JOB}/transition`, `POST /api/runner/jobs/${JOB}/logs`]);
    }
  });

  it('sends the end after the last output to a server that answers a batch without its transition', async () => {
    const { engine, requests, oneShot } = await serverWithJob(['echo last words'], { noThen: true });
    expect(await oneShot()).toBe('DONE');
    expect(await statuses(engine)).toStrictEqual(['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'DONE']);
    const reports = requests.filter((r) => r.startsWith(`POST /api/runner/jobs/${JOB}/`));
    expect(reports.map((r) => r.split('/').at(-1))).toStrictEqual(['transition', 'logs', 'transition']);
  });

  it('saves the artifacts of a job that declares them, UPLOADING in between, whether its commands succeed or fail', async () => {
    for (const [command, end, reason] of [
      ['true', 'DONE', 'exit code 0'],
      ['exit 3', 'FAILED', 'exit code 3'],
    ] as const) {
      const { engine, oneShot } = await serverWithJob([`mkdir out && echo 1 > out/a.txt; ${command}`], {
        artifacts: ['out'],
      });
      expect(await oneShot()).toBe(end);
      expect(await statuses(engine)).toStrictEqual(['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'UPLOADING', end]);
      expect((await engine.store.getJob(JOB))?.reason).toBe(reason);
      const manifest = await engine.store.getArtifacts(JOB);
      expect(manifest?.artifacts.map((a) => [a.path, a.files.map((f) => f.path)])).toEqual([['out', ['out/a.txt']]]);
    }
  });

  it('leaves out a link that leads out through other links it saves, naming it, and keeps those that stay inside', async () => {
    const commands = [
      'mkdir -p out/a/b/c/d more/c && echo 1 > out/a.txt && ln -s ../a.txt out/a/inside',
      // Alone, x -> y/../../../../.. ends at out; but y leads to out itself, so the kernel lands x at /.
      'ln -s ../../../.. out/a/b/c/d/y && ln -s y/../../../../.. out/a/b/c/d/x',
      // Through a link of another artifact (restored beside it): more/c/l is more, so its ../.. lead out.
      'ln -s .. more/c/l && ln -s ../more/c/l/../../../out/a.txt out/across',
    ];
    const { engine, oneShot } = await serverWithJob(commands, { artifacts: ['out', 'more'] });
    expect(await oneShot()).toBe('DONE');
    const manifest = await engine.store.getArtifacts(JOB);
    expect(manifest?.artifacts.map((a) => [a.path, a.files.map((f) => [f.path, f.link])])).toEqual([
      [
        'out',
        [
          ['out/a/b/c/d/y', '../../../..'],
          ['out/a/inside', '../a.txt'],
          ['out/a.txt', undefined],
        ],
      ],
      ['more', [['more/c/l', '..']]],
    ]);
    const log = await logged(engine);
    expect(log).toContain(
      "[dstack] artifact 'out': left out out/a/b/c/d/x -> y/../../../../.. (a link to outside the artifact)",
    );
    expect(log).toContain(
      "[dstack] artifact 'out': left out out/across -> ../more/c/l/../../../out/a.txt (a link to outside the artifact)",
    );
  });

  it('stops a job whose stop came while it started: the answer to RUNNING ends the started process, artifacts saved', async () => {
    const { engine, client, oneShot } = await serverWithJob(['sleep 30'], { artifacts: ['out'] });
    const assignment = await client.runnerAssignment(JOB); // asked for before the stop, as a batch job does
    await stopJobs(engine, [(await engine.store.getJob(JOB))!], { actor: 'user:ada' });
    const started = Date.now();
    expect(await oneShot(Promise.resolve(assignment))).toBe('STOPPED');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await statuses(engine)).toStrictEqual(['SUBMITTED', 'DOWNLOADING', 'STOPPING', 'UPLOADING', 'STOPPED']);
  });

  it('stops a job whose stop came as it finished: its DONE is refused and it ends STOPPED, not left STOPPING', async () => {
    const { engine, oneShot } = await serverWithJob(['true'], {
      beforeTransition: async (engine, to) => {
        if (to === 'DONE') await stopJobs(engine, [(await engine.store.getJob(JOB))!], { actor: 'user:ada' });
      },
    });
    expect(await oneShot()).toBe('STOPPED');
    expect(await statuses(engine)).toStrictEqual(['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'STOPPING', 'STOPPED']);
  });

  it('does not run a job that the server ended while it started (lost), and reports nothing more', async () => {
    const marker = join(await mkdtemp(join(tmpdir(), 'dstack-one-shot-out-')), 'ran');
    const { engine, client, oneShot } = await serverWithJob([`sleep 5; touch '${marker}'`]);
    const assignment = await client.runnerAssignment(JOB);
    await engine.transition(JOB, 'DOWNLOADING', 'FAILED', { reason: 'runner lost' }, 'runner:slurm');
    const started = Date.now();
    expect(await oneShot(Promise.resolve(assignment))).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 5500));
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await engine.store.getJob(JOB))?.status).toBe('FAILED');
  });

  it('ends the started job when RUNNING cannot be reported, and fails it with the reason', async () => {
    const marker = join(await mkdtemp(join(tmpdir(), 'dstack-one-shot-out-')), 'ran');
    const { engine, oneShot } = await serverWithJob([`sleep 3; touch '${marker}'`], { dropFirstTransition: true });
    const started = Date.now();
    expect(await oneShot()).toBe('FAILED');
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 3500));
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    const job = await engine.store.getJob(JOB);
    expect(job?.status).toBe('FAILED');
    expect(job?.reason).toBe('cannot reach the dstack server at http://dstack.test: Error: ECONNRESET');
  });

  it("stops a job that Slurm's scancel ends, saving its checkpoint, STOPPED with why, though it exited 0 first", async () => {
    // The job traps SIGTERM, saves and exits 0 at once; the server's answer to the runner's stop takes a while.
    // It says when its trap is set: its process shows before bash has read the script.
    const trapSet = join(await mkdtemp(join(tmpdir(), 'dstack-trap-')), 'set');
    const trap = "trap 'echo bye; mkdir -p ck; echo saved > ck/c; exit 0' TERM";
    const script = `${trap}; echo ready; touch '${trapSet}'; while true; do sleep 0.1 || true; done`;
    const { engine, oneShot } = await serverWithJob([script], { stopAnswerMs: 500, artifacts: ['ck'] });
    const ended = oneShot();
    await vi.waitFor(() => stat(trapSet), { timeout: 5000, interval: 20 });
    sigtermAsScancel();
    expect(await ended).toBe('STOPPED');
    // Not a DONE from the exit code: its stop, and its artifacts saved on the way, as `dstack stop` does.
    expect(await statuses(engine)).toStrictEqual([
      'SUBMITTED',
      'DOWNLOADING',
      'RUNNING',
      'STOPPING',
      'UPLOADING',
      'STOPPED',
    ]);
    const job = (await engine.store.getJob(JOB))!;
    expect(job.reason).toBe('stopped: Slurm ended the batch job (time limit, preemption or scancel)');
    expect(job.stopGraceMs).toBe(2000); // the runner's own, under the cap that leaves room for the upload
    const manifest = await engine.store.getArtifacts(JOB);
    expect(manifest?.artifacts.map((a) => a.files.map((f) => f.path))).toStrictEqual([['ck/c']]);
    const lines = (await logged(engine)).split('\n');
    expect(lines).toContain('ready');
    expect(lines).toContain('bye'); // the trap's last words (bash may add "Terminated")
  });

  it("keeps a user's stop that Slurm's SIGTERM carries out: 'stopped by user'", async () => {
    const trapSet = join(await mkdtemp(join(tmpdir(), 'dstack-trap-')), 'set');
    const script = `trap 'echo bye; exit 0' TERM; echo ready; touch '${trapSet}'; while true; do sleep 0.1 || true; done`;
    const { engine, oneShot } = await serverWithJob([script], { stopAnswerMs: 200 });
    const ended = oneShot();
    await vi.waitFor(() => stat(trapSet), { timeout: 5000, interval: 20 });
    await stopJobs(engine, [(await engine.store.getJob(JOB))!], { actor: 'user:ada', graceMs: 7000 });
    process.emit('SIGTERM'); // scancel --signal=TERM --batch: the runner alone
    expect(await ended).toBe('STOPPED');
    const job = (await engine.store.getJob(JOB))!;
    expect([job.reason, job.stopGraceMs]).toStrictEqual(['stopped by user', 7000]);
  });
});
