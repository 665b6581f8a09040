/** URLs as they may be shown: the password masked, wherever a parser would end it (core/redact-url.ts). */
import { describe, expect, it } from 'vitest';
import { atAfterHost, redactUrl } from '../../src/core/redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://u:secret@db:5432/x', 'postgres://u:***@db:5432/x'],
    ['postgres://u:p@ss:w@db/x', 'postgres://u:***@db/x'], // the last '@' of the authority
    ['postgres://u:pw@[::1/db', 'postgres://u:***@[::1/db'], // unparsable: to the last '@'
    ['postgres://dstack:Xy9@Pw/Secret@127.0.0.1:1/teamdb', 'postgres://dstack:***@127.0.0.1:1/teamdb'],
    ['postgres://db/x', 'postgres://db/x'],
    ['http://:secret@h:3000', 'http://:***@h:3000'], // a password without a user name
    // node-postgres takes a password from the query as well
    ['postgres://u@db/x?password=secret', 'postgres://u@db/x?password=***'],
    [
      'postgres://u:pw@db/x?sslmode=disable&sslpassword=s&a=1',
      'postgres://u:***@db/x?sslmode=disable&sslpassword=***&a=1',
    ],
    ['postgres://u@db/x?Password=a%26b#f', 'postgres://u@db/x?Password=***#f'],
  ])('shows %s as %s', (url, shown) => expect(redactUrl(url)).toBe(shown));
});

describe('atAfterHost', () => {
  it('finds an @ past the authority, where a password holding @ and / put it', () => {
    expect(atAfterHost('postgres://dstack:Xy9@Pw/Secret@127.0.0.1:1/teamdb')).toBe(true);
    expect(atAfterHost('http://s3.example.com/bucket?x=a@b')).toBe(true);
    expect(atAfterHost('postgres://u:p@ss:w@db/dstack')).toBe(false);
    expect(atAfterHost('postgres://u:pw@[::1/db')).toBe(false); // unparsable: masked to the last '@' anyway
  });
});
