/** The hint under an empty listing whose earlier runs lie under the folder's key. */
import { describe, expect, it } from 'vitest';
import { beforeRemoteHint } from '../../src/cli/project-scope.js';

describe('beforeRemoteHint', () => {
  it('shows the folder with its control characters escaped', () => {
    expect(beforeRemoteHint('runs', '/work/odd\x1b[31m\tname', 'dstack status --all')).toBe(
      'Your runs of this folder from before it had a git remote are in project /work/odd\\x1b[31m\\tname: ' +
        'a project is its git remote, or its folder without one. See them with: dstack status --all',
    );
  });
});
