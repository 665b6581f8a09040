/**
 * A team server keeps finished jobs' logs in its storage, not only on its disk: a server on a
 * new data folder (a new machine, a lost disk) with the same database and S3 bucket shows
 * them, byte for byte, and `--since` still narrows them (their index is rebuilt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { RemoteProject, startForegroundServer, type ForegroundServer } from './remote.js';

// 2,500 lines over 1,000-entry index intervals, on both streams.
const WORKFLOWS = `workflows:
  - name: chatty
    commands:
      - for i in $(seq 1 2500); do echo "line $i"; done
      - echo "to stderr" >&2
`;

describe('finished logs archived in the storage', () => {
  let moto: S3Server;
  let postgres: PostgresServer;
  let bucket: string;
  let database: string;
  const servers: ForegroundServer[] = [];
  const projects: RemoteProject[] = [];

  const serve = async () => {
    // One machine's servers on the database, one after the other: their runner is asked for.
    const args = ['--storage', `s3://${bucket}/team`, '--database', database, '--local-runner'];
    const server = await startForegroundServer(args, moto.env);
    servers.push(server);
    const project = await RemoteProject.create(server, moto.env);
    projects.push(project);
    await project.write({ '.dstack/workflows.yaml': WORKFLOWS });
    return { server, project };
  };

  beforeAll(async () => {
    [moto, postgres] = await Promise.all([startMoto(), startPostgres()]);
    ({ bucket } = await createBucket(moto));
    database = await postgres.createDatabase();
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const p of projects) await p.dispose();
    await moto?.stop();
    await postgres?.stop();
  });

  it('shows a run of the first server from a second one on a new data folder', async () => {
    const first = await serve();
    const ran = await first.project.dstack(['run', 'chatty']);
    expect(ran.code).toBe(0);
    const [run] = JSON.parse((await first.project.dstack(['status', '--json'])).stdout) as RunView[];
    const before = await first.project.dstack(['logs', run!.name]);
    expect(before.stdout.split('\n')).toHaveLength(2501);
    expect(before.stderr).toBe('to stderr\n');
    await first.server.stop(); // its data folder, logs and all, is gone with it

    const second = await serve();
    const after = await second.project.dstack(['logs', run!.name]);
    expect(after.stdout).toBe(before.stdout);
    expect(after.stderr).toBe(before.stderr);
    const job = run!.jobs[0]!.id;
    expect((await second.project.dstack(['logs', job, '--since', '1h'])).stdout).toBe(before.stdout);
    expect(second.server.output()).toContain(`restored the log of job ${job} from the storage`);
  }, 180_000);
});
