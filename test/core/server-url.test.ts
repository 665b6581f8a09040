import { describe, expect, it } from 'vitest';
import { dstackServerUrlProblem, serverUrlProblem } from '../../src/core/server-url.js';

describe('serverUrlProblem', () => {
  it('takes http and https URLs with a host', () => {
    for (const url of ['http://h', 'https://h:443/dstack', 'http://[::1]:3000', 'http://u:p@h:65535?x', 'http://h:1']) {
      expect(serverUrlProblem(url), url).toBeUndefined();
    }
  });

  it('says a port out of range is, rather than ask for an http:// URL the value is', () => {
    expect(serverUrlProblem('http://h:99999')).toBe('port 99999 is out of range (1 to 65535)');
    expect(serverUrlProblem('https://u:p@h:70000/x')).toBe('port 70000 is out of range (1 to 65535)');
    expect(serverUrlProblem('http://[::1]:0')).toBe('port 0 is out of range (1 to 65535)');
  });

  it('asks for an http:// or https:// URL otherwise', () => {
    for (const url of ['ftp://x', 'localhost:3111', 'http://', 'h', 'http://h:port']) {
      expect(serverUrlProblem(url), url).toBe('give an http:// or https:// URL');
    }
  });
});

describe('dstackServerUrlProblem', () => {
  it('refuses a user name or password, which dstack never sends, and says what serverUrlProblem says otherwise', () => {
    const why =
      'it holds a user name or password (USER:PASSWORD@), which dstack never sends (the server checks its token): ' +
      'give the URL without them';
    for (const url of ['http://u:p@h:3000', 'https://u@h', 'http://:p@h'])
      expect(dstackServerUrlProblem(url), url).toBe(why);
    expect(dstackServerUrlProblem('https://h:443/dstack')).toBeUndefined();
    expect(dstackServerUrlProblem('localhost:3111')).toBe('give an http:// or https:// URL');
  });
});
