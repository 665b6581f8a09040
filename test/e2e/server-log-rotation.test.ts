/**
 * The local server's log does not grow for good: a start that finds it over 16 MiB moves it to
 * `server.log.1` (the one before goes) and begins a new one; a smaller one is appended to.
 */
import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_LOG_MAX_BYTES } from '../../src/client/server-log.js';
import { Sandbox } from './harness.js';

describe('the local server log', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.dstack(['server', 'stop']);
    await sb?.dispose();
  });

  it('is moved to server.log.1 at a start once over 16 MiB, and appended to below that', async () => {
    sb = await Sandbox.create();
    const dir = join(sb.home, 'server');
    const log = join(dir, 'server.log');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, 'server.log.1'), 'the generation before\n');
    await writeFile(log, 'months of lines\n');
    await truncate(log, SERVER_LOG_MAX_BYTES + 1);

    expect((await sb.dstack(['status'])).code).toBe(0);
    const old = await readFile(join(dir, 'server.log.1'));
    expect(old.subarray(0, 16).toString()).toBe('months of lines\n');
    expect(old.length).toBe(SERVER_LOG_MAX_BYTES + 1);
    expect(await readFile(log, 'utf8')).toContain('server listening on');

    expect((await sb.dstack(['server', 'stop'])).code).toBe(0);
    const size = (await stat(log)).size;
    expect((await sb.dstack(['status'])).code).toBe(0);
    expect((await stat(log)).size).toBeGreaterThan(size);
    expect((await stat(join(dir, 'server.log.1'))).size).toBe(SERVER_LOG_MAX_BYTES + 1);
  });
});
