import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchedWriter, createLogger } from '../src/logger.js';

describe('the logger', () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const writes: string[] = [];
    const logger = createLogger('s', 'info', batchedWriter({ write: (text: string) => writes.push(text) > 0 }));
    logger.info('one');
    logger.warn('two', { token: 'abc' });
    logger.debug('below the level');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^\S+ INFO \[s\] one\n\S+ WARN \[s\] two \{"token":"\[redacted\]"\}\n$/);
  });

  it('writes what is pending when the process exits', () => {
    const script = `import('./src/logger.ts').then(({ createLogger }) => { createLogger('s').error('last words'); process.exit(3); })`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(child.status).toBe(3);
    expect(child.stderr).toMatch(/ERROR \[s\] last words\n/);
  });
});
