/**
 * The API's refusals of values a CLI flag carries (`stop --grace`, `status --last`, `prune
 * --older-than`, `users add NAME`) say the allowed range or rule, not zod's words: the API is
 * used directly too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../services/server.js';

describe('the API refusing a value out of its range', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  /** The 400 answer's message to a request. */
  const refusal = async (method: string, path: string, body?: unknown): Promise<string> => {
    const response = await fetch(`${t.server.url}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status).toBe(400);
    return ((await response.json()) as { error: { message: string } }).error.message;
  };

  it('says the grace a stop takes', async () => {
    for (const grace of [86_401, -1, 'soon'])
      expect(await refusal('POST', '/stop', { target: 'some-run-1', grace })).toBe(
        'invalid request: grace: expected seconds from 0 to 86400 (a day)',
      );
  });

  it('says how many runs a list takes', async () => {
    for (const last of ['99999999999999999999', '0', '1.5', 'x'])
      expect(await refusal('GET', `/runs?last=${last}`)).toBe(
        'invalid request: last: expected a whole number from 1 to 10000',
      );
  });

  it("says the age a prune's runs are older than", async () => {
    for (const olderThanMs of [99_999_999_999_999 * 86_400_000, -1, 1.5])
      expect(await refusal('POST', '/prune', { olderThanMs })).toBe(
        'invalid request: olderThanMs: expected whole milliseconds from 0 to 3153600000000 (36500 days)',
      );
  });

  it("says the rule of a new user's or runner's name, the length included", async () => {
    const rule =
      "invalid request: name: lower-case letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64";
    for (const name of ['bad name', 'x'.repeat(200), 'Alice']) {
      expect(await refusal('POST', '/users', { name })).toBe(rule);
      expect(await refusal('POST', '/runners', { name })).toBe(rule);
    }
  });
});
