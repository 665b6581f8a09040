/** A JavaScript provider that does not parse, through the real CLI (node's own import, not vitest's). */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('a provider module with a syntax error', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': 'workflows:\n  - name: count\n    provider: garbled\n',
      '.dstack/providers/garbled.mjs': 'export default { name: "garbled", createJobs( }\n',
    });
  });
  afterAll(() => sb.dispose());

  it('says how to find where it goes wrong, as node gives no line', async () => {
    const r = await sb.dstack(['run', 'count', '--dry-run']);
    expect(r.stderr).toBe(
      "error: .dstack/workflows.yaml:3:15: provider 'garbled' (.dstack/providers/garbled.mjs) of workflow 'count' " +
        `cannot be loaded: Unexpected token '}' (node --check ${join(sb.root, '.dstack', 'providers', 'garbled.mjs')} ` +
        'shows where)\n',
    );
    expect(r.code).toBe(2);
  });
});
