/** `dstack server` started with settings it cannot use: it says which setting and how to fix it, and exits. */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../services/postgres.js';
import { Sandbox } from './harness.js';
import { startForegroundServer } from './remote.js';

describe('dstack server refusing its settings', () => {
  let sb: Sandbox;
  let postgres: PostgresServer | undefined;
  const server = (args: string[], env: Record<string, string> = {}) =>
    sb.dstack(['server', '--port', '0', '--no-local-runner', ...args], { env, timeoutMs: 20_000 });

  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(async () => {
    await sb.dispose();
    await postgres?.stop();
  });

  it('refuses a --storage or DSTACK_STORAGE that starts with s3: but is not s3://BUCKET, naming the one given', async () => {
    const flag = await server(['--storage', 's3:/my-bucket/team']);
    expect(flag).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: invalid --storage 's3:/my-bucket/team': use s3://BUCKET/PREFIX (or a local folder)\n",
    });
    const variable = await server([], { DSTACK_STORAGE: 's3:my-bucket' });
    expect(variable).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: invalid DSTACK_STORAGE 's3:my-bucket': use s3://BUCKET/PREFIX (or a local folder)\n",
    });
    expect(await readdir(sb.root)).toEqual(['.dstack']); // no folder named s3: made where it ran
  });

  it('refuses a --database, DSTACK_DATABASE_URL or S3 endpoint that is not a URL, naming it and not its password', async () => {
    const url = 'postgres://dst:s3cret@[::1/dstack';
    const refused = (setting: string) =>
      `error: invalid ${setting} 'postgres://dst:***@[::1/dstack': not a URL (in a user name or password, ` +
      'percent-encode @ : / ? # [ ] and %); use postgres://USER:PASSWORD@HOST:PORT/DATABASE\n';
    expect(await server(['--database', url])).toEqual({ code: 2, stdout: '', stderr: refused('--database') });
    expect(await server([], { DSTACK_DATABASE_URL: url })).toEqual({
      code: 2,
      stdout: '',
      stderr: refused('DSTACK_DATABASE_URL'),
    });
    expect(await server(['--storage', 's3://team-bucket/x'], { AWS_ENDPOINT_URL_S3: 'http://[::1:9000' })).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: invalid AWS_ENDPOINT_URL_S3 'http://[::1:9000': give an http:// or https:// URL\n",
    });
    expect(await server(['--storage', 's3://team-bucket/x'], { AWS_ENDPOINT_URL: 'http://localhost:99999' })).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: invalid AWS_ENDPOINT_URL 'http://localhost:99999': port 99999 is out of range (1 to 65535)\n",
    });
  });

  it('says a --port in use is in use, exits 1, and leaves the data folder free', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await sb.dstack(['server', '--port', String(port), '--no-local-runner'], { timeoutMs: 20_000 });
      expect(r).toEqual({ code: 1, stdout: '', stderr: `error: port ${port} on 127.0.0.1 is in use (--port)\n` });
      expect(existsSync(join(sb.home, 'server', 'server.pid'))).toBe(false);
    } finally {
      taken.close();
    }
  });

  it('says a --database or DSTACK_DATABASE_URL without the password PostgreSQL asks for gives none, and exits', async () => {
    postgres = await startPostgres();
    const { url } = await postgres.passwordDatabase();
    const noPassword = (setting: string) =>
      `error: cannot connect to PostgreSQL at ${url}: no password given, and the server asks for one: ` +
      `add it to ${setting} (postgres://USER:PASSWORD@HOST:PORT/DATABASE) or set PGPASSWORD\n`;
    expect(await server(['--database', url])).toEqual({ code: 1, stdout: '', stderr: noPassword('--database') });
    expect(await server([], { DSTACK_DATABASE_URL: url })).toEqual({
      code: 1,
      stdout: '',
      stderr: noPassword('DSTACK_DATABASE_URL'),
    });
  });

  it("keeps the --database URL's password out of the command line every user can read (ps)", async () => {
    postgres ??= await startPostgres();
    const { url, password } = await postgres.passwordDatabase();
    const server = await startForegroundServer(['--database', url.replace('@', `:${password}@`)], {});
    try {
      const cmdline = await readFile(`/proc/${server.pid}/cmdline`, 'utf8');
      expect(cmdline).not.toContain(password);
      expect(cmdline).toContain(`server --port 0 --data-dir `);
      expect(cmdline).toContain(`--database ${url.replace('@', ':***@')}`);
    } finally {
      await server.stop();
    }
  });
});
