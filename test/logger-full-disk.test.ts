/**
 * A server's log on a disk that fills up (the local server's, in DSTACK_HOME): its lines are
 * lost while the disk is full, the process goes on, and the log says what it lost once it can.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from './fixtures/small-disk.js';

const SCRIPT = `(async () => {
  const { createLogger } = await import('./src/logger.ts');
  const { dropStderrErrors } = await import('./src/cli/stdio-errors.ts');
  dropStderrErrors();
  const log = createLogger('s');
  log.warn('lost one');
  log.warn('lost two');
  setTimeout(() => process.stdout.write('logged\\n'), 50);
  process.stdin.once('data', () => {
    log.warn('after');
    process.exit(0);
  });
})()`;

describe('a log on a full disk', () => {
  let disk: SmallDisk;
  beforeAll(async () => {
    disk = await mountSmallDisk(1);
  });
  afterAll(() => disk?.unmount());

  it('loses its lines while the disk is full, and says how many once it has room', async () => {
    const file = join(disk.path, 'server.log');
    const fd = openSync(file, 'a');
    await disk.fill();
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', SCRIPT], { stdio: ['pipe', 'pipe', fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('logged') && resolve());
      void exited.then((code) => reject(new Error(`the process ended (exit code ${code}) on its log's full disk`)));
    });
    await disk.free();
    child.stdin!.write('go\n');
    expect(await exited).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/lost (one|two)/);
    expect(text).toMatch(
      /^\n\S+ WARN \[log\] 2 lines of this log could not be written \(ENOSPC: no space left on device\)\n\S+ WARN \[s\] after\n$/,
    );
  });
});
