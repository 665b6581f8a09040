import { describe, expect, it } from 'vitest';
import { serverUrlProblem } from '../../src/core/server-url.js';

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
