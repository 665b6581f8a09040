import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchedWriter, createLogger, LOG_BATCH_MS } from '../src/logger.js';

describe('the logger', () => {
  it('writes the lines of a batch window in one write, in order; a warning at once, with what waited', async () => {
    const writes: string[] = [];
    const logger = createLogger('s', 'info', batchedWriter({ write: (text: string) => writes.push(text) > 0 }));
    logger.info('one');
    logger.debug('below the level');
    await new Promise((resolve) => setImmediate(resolve));
    logger.info('two');
    expect(writes).toEqual([]); // a turn of the event loop later, still waiting
    await new Promise((resolve) => setTimeout(resolve, LOG_BATCH_MS + 10));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^\S+ INFO \[s\] one\n\S+ INFO \[s\] two\n$/);
    logger.info('three');
    logger.warn('four', { token: 'abc' });
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatch(/^\S+ INFO \[s\] three\n\S+ WARN \[s\] four \{"token":"\[redacted\]"\}\n$/);
    await new Promise((resolve) => setTimeout(resolve, LOG_BATCH_MS + 10));
    expect(writes).toHaveLength(2); // nothing was left to write
  });

  it('writes what is pending when the process exits', () => {
    const script = `import('./src/logger.ts').then(({ createLogger }) => { createLogger('s').error('last words'); process.exit(3); })`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(child.status).toBe(3);
    expect(child.stderr).toMatch(/ERROR \[s\] last words\n/);
  });
});
