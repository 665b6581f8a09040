import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/commands/tags.js';
import { parseSince } from '../../src/cli/format.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

describe('dstack logs --since', () => {
  it('reads seconds, minutes, hours, days and weeks before now', () => {
    expect(parseSince('30s', NOW)).toBe(NOW - 30e3);
    expect(parseSince('5m', NOW)).toBe(NOW - 5 * 60e3);
    expect(parseSince('2h', NOW)).toBe(NOW - 2 * 3600e3);
    expect(parseSince('1d', NOW)).toBe(NOW - 86400e3);
    expect(parseSince('1w', NOW)).toBe(NOW - 7 * 86400e3);
  });

  it('reads an ISO 8601 time', () => {
    expect(parseSince('2026-01-31T12:00:00Z', NOW)).toBe(Date.parse('2026-01-31T12:00:00Z'));
  });

  it('refuses a bare number, a fraction, an unknown unit, a word and an impossible date', () => {
    for (const text of ['10', '1.5h', '2y', 'yesterday', '2026-13-01']) expect(parseSince(text, NOW), text).toBeNull();
  });
});

describe('dstack prune --older-than', () => {
  it('reads the same units as --since, weeks too', () => {
    expect(parseDuration('2w', '--older-than')).toBe(14 * 86400e3);
    expect(parseDuration('45s', '--older-than')).toBe(45e3);
  });

  it('refuses a duration without its unit, naming the flag', () => {
    expect(() => parseDuration('2', '--older-than')).toThrow(
      "invalid --older-than '2': use a duration like 7d, 12h, 30m, 45s or 2w",
    );
  });
});
