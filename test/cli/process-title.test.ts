/** What `dstack server` shows of its arguments to every user of the machine (ps). */
import { describe, expect, it } from 'vitest';
import { maskedArgs } from '../../src/cli/process-title.js';
import { redactUrl } from '../../src/server/store/postgres.js';

describe('maskedArgs', () => {
  it("masks the --database URL's password in both flag forms, and nothing else", () => {
    const args = ['server', '--database', 'postgres://dst:s3cret@db:5432/dstack', '--port', '3000'];
    expect(maskedArgs(args, '--database', redactUrl)).toEqual([
      'server',
      '--database',
      'postgres://dst:***@db:5432/dstack',
      '--port',
      '3000',
    ]);
    expect(maskedArgs(['server', '--database=postgres://dst:p@ss:w@db/dstack'], '--database', redactUrl)).toEqual([
      'server',
      '--database=postgres://dst:***@db/dstack',
    ]);
    expect(maskedArgs(['server', '--database', 'postgres://dst@db/dstack?x=a@b'], '--database', redactUrl)).toEqual([
      'server',
      '--database',
      'postgres://dst@db/dstack?x=a@b',
    ]);
  });
});
