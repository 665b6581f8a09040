/** What the curl provider checks when it plans: a URL it can fetch, an output inside the project. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planError, tempDir, writeFiles } from './helpers.js';

describe('curl parameters', () => {
  let base: string;
  beforeAll(async () => {
    base = await tempDir();
    await writeFiles(join(base, 'p'), {
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: ftp',
        '    provider: curl',
        '    url: ftp://example.org/data.txt',
        '    output: data.txt',
        '  - name: outside',
        '    provider: curl',
        '    url: https://example.org/data.txt',
        '    output: ../data.txt',
        '',
      ].join('\n'),
    });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('refuses a url that is not http or https, at its line', async () => {
    expect((await planError(join(base, 'p'), 'ftp')).message).toBe(
      ".dstack/workflows.yaml:4:10: invalid url 'ftp://example.org/data.txt' of workflow 'ftp': expected an http:// or https:// URL",
    );
  });

  it('refuses an output outside the project', async () => {
    expect((await planError(join(base, 'p'), 'outside')).message).toBe(
      ".dstack/workflows.yaml:9:13: output '../data.txt' of workflow 'outside' must be a path inside the project (relative, without '..')",
    );
  });
});
