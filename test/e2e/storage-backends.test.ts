/**
 * The same CLI flows against `dstack server` on its defaults (SQLite, blobs on disk) and on
 * `--storage s3://… --database postgres://…` (moto_server and a real PostgreSQL): run a
 * two-job pipeline with artifacts, status, logs, artifacts list and download, reuse, tags.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { RemoteProject, startForegroundServer, type ForegroundServer } from './remote.js';

const WORKFLOWS = `workflows:
  - name: prepare
    commands:
      - python3 prepare.py
    artifacts: [data]
  - name: train
    depends-on: [prepare]
    commands:
      - python3 train.py
    artifacts: [model]
`;

// 40 small files, one 3 MB file (a big blob: straight to S3 when the server hands out URLs), a link.
const PREPARE = `import os, random
os.makedirs('data/parts', exist_ok=True)
for i in range(40):
    open(f'data/parts/{i}.txt', 'w').write(f'part {i}\\n' * (i + 1))
open('data/big.bin', 'wb').write(random.Random(7).randbytes(3_000_000))
os.symlink('big.bin', 'data/latest.bin')
print('prepared 41 files')
`;

const TRAIN = `import os, hashlib, random
files = sorted(os.path.join(d, f) for d, _, fs in os.walk('data') for f in fs)
digest = hashlib.sha256(b''.join(open(f, 'rb').read() for f in files)).hexdigest()
os.makedirs('model', exist_ok=True)
open('model/weights.bin', 'wb').write(random.Random(8).randbytes(2_000_000))
print(f'trained on {len(files)} files, data {digest[:12]}')
`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Backend {
  name: string;
  start(): Promise<{ server: ForegroundServer; check: () => Promise<void> }>;
}

let moto: S3Server | undefined;
let postgres: PostgresServer | undefined;
afterAll(async () => {
  await moto?.stop();
  await postgres?.stop();
});

const backends: Backend[] = [
  {
    name: 'the defaults (SQLite, blobs on disk)',
    start: async () => ({ server: await startForegroundServer([], {}), check: async () => {} }),
  },
  {
    name: 'S3 (moto_server) and PostgreSQL',
    start: async () => {
      [moto, postgres] = await Promise.all([moto ?? startMoto(), postgres ?? startPostgres()]);
      const { bucket, s3 } = await createBucket(moto);
      const database = await postgres.createDatabase();
      const server = await startForegroundServer(
        // Its own database: its runner is asked for (a shared one has none by default).
        ['--storage', `s3://${bucket}/team/artifacts`, '--database', database, '--local-runner'],
        moto.env,
      );
      return {
        server,
        // The state and the blobs are really where the flags said.
        check: async () => {
          const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'team/artifacts/' }));
          expect(listed.KeyCount).toBeGreaterThan(40);
          const client = new pg.Client({ connectionString: database });
          await client.connect();
          try {
            const runs = await client.query('select count(*)::int as n from runs');
            expect(runs.rows[0].n).toBe(2);
          } finally {
            await client.end();
          }
        },
      };
    },
  },
];

describe.each(backends)('dstack server on $name', (backend) => {
  let server: ForegroundServer;
  let check: () => Promise<void>;
  let project: RemoteProject;
  let run: RunView;

  beforeAll(async () => {
    ({ server, check } = await backend.start());
    project = await RemoteProject.create(server, moto?.env ?? {});
    await project.write({ '.dstack/workflows.yaml': WORKFLOWS, 'prepare.py': PREPARE, 'train.py': TRAIN });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await project?.dispose();
  });

  it('runs the pipeline, streaming its logs, and shows it in status', async () => {
    const r = await project.dstack(['run', 'train']);
    expect(r.stderr).not.toContain('Error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prepare \| prepared 41 files/);
    expect(r.stdout).toMatch(/train\s+\| trained on 42 files, data [0-9a-f]{12}/);
    const status = await project.dstack(['status', '--json']);
    run = (JSON.parse(status.stdout) as RunView[])[0]!;
    expect(run.jobs.map((j) => [j.workflow, j.status])).toEqual([
      ['prepare', 'DONE'],
      ['train', 'DONE'],
    ]);
  });

  it('prints a job log and the whole run log, and --since narrows it', async () => {
    const job = await project.dstack(['logs', run.jobs[1]!.id]);
    expect(job.stdout).toMatch(/^trained on 42 files/m);
    const all = await project.dstack(['logs', run.name]);
    expect(all.stdout).toContain('prepared 41 files');
    expect(all.stdout).toContain('trained on 42 files');
    const recent = await project.dstack(['logs', run.name, '--since', '1h']);
    expect(recent.stdout).toBe(all.stdout);
  });

  it('lists artifacts and downloads them byte for byte, link included', async () => {
    const listed = await project.dstack(['artifacts', run.jobs[0]!.id]);
    expect(listed.stdout).toContain('data/big.bin');
    expect(listed.stdout).toContain('-> big.bin');
    const out = join(project.base, 'out');
    const got = await project.dstack(['artifacts', run.jobs[0]!.id, '--output', out]);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('downloaded 42 files');
    expect(got.stderr).toBe(''); // no progress bar when stderr is not a terminal
    expect(await readFile(join(out, 'data', 'parts', '39.txt'), 'utf8')).toBe('part 39\n'.repeat(40));
    const big = await readFile(join(out, 'data', 'big.bin'));
    expect(big.length).toBe(3_000_000);
    expect(sha256(await readFile(join(out, 'data', 'latest.bin')))).toBe(sha256(big));
    const model = join(project.base, 'model');
    await project.dstack(['artifacts', run.jobs[1]!.id, '-o', model]);
    expect((await readFile(join(model, 'model', 'weights.bin'))).length).toBe(2_000_000);
  });

  it('reuses both jobs on a second run, and tags the run', async () => {
    const again = await project.dstack(['run', 'train']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`prepare: cached, reusing job ${run.jobs[0]!.id}`);
    expect(again.stderr).toContain(`train: cached, reusing job ${run.jobs[1]!.id}`);
    expect((await project.dstack(['tags', 'add', 'best', run.name])).code).toBe(0);
    expect((await project.dstack(['tags'])).stdout).toContain('best');
    await check();
  });
});
