/** What `dstack server` shows of its arguments to every user of the machine (ps). */
import { describe, expect, it } from 'vitest';
import { maskedArgs } from '../../src/cli/process-title.js';
import { redactUrl } from '../../src/core/redact-url.js';

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

  it('masks the whole of what may be a password in a URL no parser reads', () => {
    expect(maskedArgs(['server', '--database', 'postgres://u:pw@[::1/db'], '--database', redactUrl)).toEqual([
      'server',
      '--database',
      'postgres://u:***@[::1/db',
    ]);
    // The password holds a / and a #: it reads as a host and port, and no parser takes it.
    expect(redactUrl('postgres://dst:s/3#c@db/dstack')).toBe('postgres://dst:***@db/dstack');
    expect(redactUrl('postgres://dst@[db/dstack')).toBe('postgres://dst@[db/dstack');
  });
});
