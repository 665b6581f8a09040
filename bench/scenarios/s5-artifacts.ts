/** Scenario 5: save a folder as a job's artifact, restore it, re-save it with one file changed. */
import { mkdir, readdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Dstack } from '../peers/dstack.js';
import { fmtS, fmtX, med, row, notRun, target, type Row, type Scenario } from '../model.js';
import { errorMessage, sh, tempDir } from '../util.js';

interface Samples {
  dstackSave: number[];
  dstackRestore: number[];
  dstackUse: number[];
  dstackResave: number[];
  cpSave: number[];
  cpRestore: number[];
  cpResave: number[];
  cpUpdate: number[];
  tarSave: number[];
  tarRestore: number[];
  dstackSaveBig: number[];
  cpSaveBig: number[];
  tarSaveBig: number[];
}

/**
 * Untimed, before each step of a repetition whose dstack home is `home`: dstack's runner
 * done removing finished jobs' folders (`trashEmptied`), every file under `reads` read, so
 * that each tool starts with what it reads in the page cache (a repetition writes more than
 * this machine's memory holds over a run, and a folder pushed out of the cache made
 * whichever step came first read the disk), then `sync`, so that one step's writes do not
 * land on the next.
 */
function stepsIn(home: string) {
  const settle = async (...reads: string[]): Promise<void> => {
    await trashEmptied(home);
    for (const path of reads) await sh(`find ${q(path)} -type f -exec cat {} + > /dev/null`);
    await sh('sync');
  };
  /** A timed shell step, after `settle`. */
  const step = async (script: string, ...reads: string[]): Promise<number> => {
    await settle(...reads);
    return (await sh(script)).seconds;
  };
  return { settle, step };
}

/**
 * Wait for dstack's runner to be done with its finished jobs' folders: it moves one to its
 * trash once the job has reported its end (so after the CLI may have returned), then removes
 * it in the background (an `rm` at the lowest priority, once no job runs), and those
 * deletions would land on the next step, dstack's or a floor's. A save's job hard-links the
 * source folder into its workspace, so they also change the source files' link counts while
 * a floor reads them (`tar`: "file changed as we read it").
 */
async function trashEmptied(home: string): Promise<void> {
  const folders = ['jobs', 'trash'].map((name) => join(home, 'runner', name));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const left = (await Promise.all(folders.map((f) => readdir(f).catch(() => [])))).flat();
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`dstack's runner still holds ${left.length} job folders after 2 minutes (${folders.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const q = (s: string) => `'${s}'`;

/** Files of the big-file save (no target of its own: what a training job's checkpoints look like). */
const BIG_FILES = 4;

/** Whether the disk under `path` has `mib` MiB free, and 2 GiB to spare. */
async function roomFor(path: string, mib: number): Promise<boolean> {
  const fs = await statfs(path);
  return fs.bavail * fs.bsize >= (mib + 2048) * 2 ** 20;
}

export const artifacts: Scenario = {
  id: 5,
  title: 'Artifacts: save a folder, restore it, re-save it with one file changed',
  async run(ctx) {
    const mib = ctx.quick ? 30 : 1024;
    const files = ctx.quick ? 300 : 10_000;
    const reps = ctx.reps ?? (ctx.quick ? 2 : 3);
    const tmp = await tempDir('s5');
    const src = join(tmp.path, 'src');
    const big = join(tmp.path, 'big');
    const s: Samples = {
      dstackSave: [],
      dstackRestore: [],
      dstackUse: [],
      dstackResave: [],
      cpSave: [],
      cpRestore: [],
      cpResave: [],
      cpUpdate: [],
      tarSave: [],
      tarRestore: [],
      dstackSaveBig: [],
      cpSaveBig: [],
      tarSaveBig: [],
    };
    let dstackError: string | undefined;
    try {
      ctx.log(`generating ${mib} MiB in ${files} files`);
      await mkdir(src);
      await sh(`head -c ${mib}M /dev/urandom > ../blob && split -n ${files} -a 5 -d ../blob f && rm ../blob`, {
        cwd: src,
      });
      // The same size in BIG_FILES files, as a training job's checkpoints are.
      await mkdir(big);
      await sh(`head -c ${mib}M /dev/urandom > ../blob && split -n ${BIG_FILES} -d ../blob ck && rm ../blob`, {
        cwd: big,
      });
      // The job hard-links the folder into its workspace (no copy), so what is timed is dstack saving it.
      const workflows = [
        'workflows:',
        '  - name: noop',
        '    commands: ["true"]',
        '  - name: save',
        `    commands: ["cp -al ${q(src)} data"]`,
        '    artifacts: [data]',
        '  - name: use',
        '    depends-on: [save]',
        '    commands: ["true"]',
        '  - name: save-big',
        `    commands: ["cp -al ${q(big)} data"]`,
        '    artifacts: [data]',
        '',
      ].join('\n');
      for (let rep = 0; rep < reps; rep++) {
        ctx.log(`repetition ${rep + 1}/${reps}`);
        const base = join(tmp.path, `rep${rep}`);
        // A fresh home each time: blobs are content-addressed, so a second save of the same files would store nothing.
        const dstack = await Dstack.create(join(base, 'dstack'), workflows);
        const blobs = join(dstack.home, 'server', 'artifacts'); // the embedded server's blob store
        const { settle, step } = stepsIn(dstack.home);
        try {
          if (!dstackError) {
            await dstack.cli(['run', 'noop']); // starts the embedded server, untimed
            await settle(src);
            s.dstackSave.push((await dstack.cli(['run', 'save'])).seconds);
            const job = await dstack.jobId('save');
            await settle(blobs);
            s.dstackRestore.push((await dstack.cli(['artifacts', job, '-o', join(base, 'restored')])).seconds);
            await settle(blobs);
            // The saved job is reused; the new one gets its artifact in its workspace, then does nothing.
            s.dstackUse.push((await dstack.cli(['run', 'use'])).seconds);
            const count = await sh(`find ${q(join(base, 'restored'))} -type f | wc -l`, { stdout: 'capture' });
            if (Number(count.stdout.trim()) !== files) {
              throw new Error(`dstack artifacts -o restored ${count.stdout.trim()} files, not ${files}`);
            }
          }
        } catch (e) {
          dstackError = errorMessage(e);
        }
        const fl = join(base, 'floor');
        await mkdir(fl);
        s.cpSave.push(await step(`cp -r ${q(src)} ${q(fl + '/store')}`, src));
        s.cpRestore.push(await step(`cp -r ${q(fl + '/store')} ${q(fl + '/restored')}`, fl + '/store'));
        s.tarSave.push(await step(`tar -cf ${q(fl + '/store.tar')} -C ${q(src)} .`, src));
        s.tarRestore.push(
          await step(
            `mkdir ${q(fl + '/untarred')} && tar -xf ${q(fl + '/store.tar')} -C ${q(fl + '/untarred')}`,
            fl + '/store.tar',
          ),
        );
        // One file changed: new content, written beside and renamed in (the workspaces' hard links keep the old).
        await sh(`head -c $(stat -c %s f00000) /dev/urandom > .f00000 && mv .f00000 f00000`, { cwd: src });
        try {
          if (!dstackError) {
            await settle(src);
            // --no-cache: the folder is outside the project, so the job's cache key did not change.
            s.dstackResave.push((await dstack.cli(['run', 'save', '--no-cache'])).seconds);
          }
        } catch (e) {
          dstackError = errorMessage(e);
        }
        s.cpResave.push(await step(`cp -r ${q(src)} ${q(fl + '/store2')}`, src));
        s.cpUpdate.push(await step(`cp -ru ${q(src + '/.')} ${q(fl + '/store')}`, src, fl + '/store'));
        try {
          if (!dstackError) {
            await settle(big);
            s.dstackSaveBig.push((await dstack.cli(['run', 'save-big'])).seconds);
          }
        } catch (e) {
          dstackError = errorMessage(e);
        }
        s.cpSaveBig.push(await step(`cp -r ${q(big)} ${q(fl + '/big')}`, big));
        s.tarSaveBig.push(await step(`tar -cf ${q(fl + '/big.tar')} -C ${q(big)} .`, big));
        await dstack.stop();
        // A repetition writes about 10 copies of the folder: kept until the end where the disk has
        // room for all of them, so that the next repetition is not timed right after a deletion.
        if (rep + 1 === reps) continue; // removed with the rest at cleanup
        if (await roomFor(tmp.path, 11 * mib * (reps - rep - 1))) await tmp.setAside(base);
        else await rm(base, { recursive: true, force: true });
      }
    } finally {
      await tmp.cleanup();
    }
    const d = (peer: string, samples: number[]): Row =>
      dstackError ? notRun(peer, 'dstack', `failed: ${dstackError}`) : row(peer, 'dstack', samples);
    const save = d('dstack run save (job keeps the folder as an artifact)', s.dstackSave);
    const restore = d('dstack artifacts JOB -o DIR', s.dstackRestore);
    const use =
      s.dstackUse.length > 0
        ? [row('dstack run use (a job given the folder as its dependency)', 'info', s.dstackUse)]
        : [];
    const resave = d('dstack run save --no-cache (one file changed)', s.dstackResave);
    const cpSave = row('cp -r', 'floor', s.cpSave);
    const tarSave = row('tar -cf', 'floor', s.tarSave);
    const cpRestore = row('cp -r', 'floor', s.cpRestore);
    const tarRestore = row('tar -xf', 'floor', s.tarRestore);
    const floor = (a: Row, b: Row) => Math.min(med(a) ?? Infinity, med(b) ?? Infinity);
    const size = `${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} in ${files.toLocaleString('en')} files`;
    return {
      id: 5,
      title: this.title,
      size: `${size}${ctx.quick ? ' (--quick; the full run has 1 GiB in 10,000 files)' : ''}, ${reps} repetitions each`,
      tables: [
        { caption: 'save', rows: [save, cpSave, tarSave] },
        { caption: 'restore', rows: [restore, cpRestore, tarRestore, ...use] },
        {
          caption: 're-save with one file changed',
          rows: [
            resave,
            row('cp -r (the whole folder again)', 'floor', s.cpResave),
            row('cp -ru (changed files only)', 'floor', s.cpUpdate),
          ],
        },
        {
          caption: `save of the same size in ${BIG_FILES} files (no target: checkpoints)`,
          rows: [
            d(`dstack run save-big (${BIG_FILES} files)`, s.dstackSaveBig),
            row('cp -r', 'floor', s.cpSaveBig),
            row('tar -cf', 'floor', s.tarSaveBig),
          ],
        },
      ],
      targets: [
        target(
          'save within 1.5× of the floor (the faster of cp -r and tar)',
          [med(save), floor(cpSave, tarSave)],
          (x, f) => x <= 1.5 * f,
          (x, f) => `${fmtS(x)} vs ${fmtS(f)}: ${fmtX(x / f)}`,
        ),
        target(
          'restore within 1.5× of the floor (the faster of cp -r and tar)',
          [med(restore), floor(cpRestore, tarRestore)],
          (x, f) => x <= 1.5 * f,
          (x, f) => `${fmtS(x)} vs ${fmtS(f)}: ${fmtX(x / f)}`,
        ),
        target(
          'one-file re-save under a tenth of the first save',
          [med(resave), med(save)],
          (r, f) => r < f / 10,
          (r, f) => `${fmtS(r)} vs ${fmtS(f)}: ${(r / f).toFixed(2)} of it`,
        ),
      ],
      notes: [
        'dstack times are end to end from the CLI (the embedded server already running): the job starts, hard-links the folder into its workspace (`cp -al`, no copy) and dstack hashes and stores it as the job ends.',
        "The restore's CLI talks to the embedded server on this machine, so it copies the blobs from the server's store in the kernel (docs/storage.md); from a server elsewhere they come over HTTP, each hashed as it is written.",
        "`dstack run use` runs a job that depends on the saved one (reused from the cache): the runner inside the server copies the artifact's blobs into the job's workspace before its command (`true`) runs; end to end from the CLI.",
        "Before every step, untimed: dstack's runner is done removing finished jobs' folders (its trash: deletions that would land on the step, and unlink the save job's hard links to the folder while a floor reads it), what the step reads is read once (so that it is in the page cache for every tool alike: a run writes more than this machine holds in memory), then `sync`.",
        `The save of ${BIG_FILES} big files runs after the re-save, in the same home: the runner inside the server hashes and copies each into its store on local disk in one read, on worker threads (docs/storage.md).`,
      ],
    };
  },
};
