import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { transferProgress } from '../../src/cli/transfer-progress.js';
import { describeProgress, progressNotes } from '../../src/files/progress-notes.js';

/** A stream that claims to be a terminal and keeps what is written to it. */
function fakeTerminal(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & Partial<NodeJS.WriteStream>;
  let written = '';
  stream.on('data', (c: Buffer) => (written += c.toString()));
  Object.assign(stream, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: stream as unknown as NodeJS.WriteStream, written: () => written };
}

describe('transfer progress', () => {
  it('draws bytes, rate and files on a terminal', () => {
    const t = fakeTerminal(true);
    let clock = 0;
    const progress = transferProgress(t.stream, () => clock);
    clock = 2000;
    progress.onProgress!({ files: 3, totalFiles: 10, bytes: 50_000_000, totalBytes: 100_000_000 });
    progress.stop();
    expect(t.written()).toContain('50% | 50MB of 100MB | 25MB/s | 3/10 files');
  });

  it('stays silent when stderr is not a terminal', () => {
    const t = fakeTerminal(false);
    const progress = transferProgress(t.stream);
    expect(progress.onProgress).toBeUndefined();
    progress.stop();
    expect(t.written()).toBe('');
  });

  it('the runner notes upload progress every few seconds, not on every file', () => {
    const notes: string[] = [];
    let clock = 0;
    const { onProgress } = progressNotes(
      'uploading artifacts',
      (t) => notes.push(t),
      5000,
      () => clock,
    );
    for (let i = 1; i <= 100; i++) {
      clock = i * 200; // a file every 0.2 s
      onProgress({ files: i, totalFiles: 100, bytes: i * 1e6, totalBytes: 100e6 });
    }
    expect(notes).toEqual([
      'uploading artifacts: 25/100 files, 25MB of 100MB (5.0MB/s)',
      'uploading artifacts: 50/100 files, 50MB of 100MB (5.0MB/s)',
      'uploading artifacts: 75/100 files, 75MB of 100MB (5.0MB/s)',
      'uploading artifacts: 100/100 files, 100MB of 100MB (5.0MB/s)',
    ]);
    expect(describeProgress({ files: 0, totalFiles: 0, bytes: 0, totalBytes: 0 }, 0)).toBe(
      '0/0 files, 0B of 0B (0B/s)',
    );
  });
});
