import { describe, expect, it } from 'vitest';
import { runnerStartLines } from '../../src/cli/runner-start-line.js';

describe('the printed runner start command', () => {
  it('says a loopback URL reaches this machine only, and what to put in its place', () => {
    for (const url of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000', 'https://127.1.2.3']) {
      expect(runnerStartLines('dst_x', url)).toBe(
        `  DSTACK_TOKEN=dst_x dstack runner start --server ${url}\n` +
          `  (${url} reaches this machine only: on another machine, replace it with an address of this server ` +
          'that machine can reach)\n',
      );
    }
  });

  it('is the command alone for an address other machines may reach', () => {
    for (const url of ['http://10.0.0.5:3000', 'https://dstack.example.com', 'http://[fe80::1]:3000']) {
      expect(runnerStartLines('dst_x', url)).toBe(`  DSTACK_TOKEN=dst_x dstack runner start --server ${url}\n`);
    }
  });
});
