/** Conformance: registered repos, one per user and remote, credentials stored as given (sealed by the caller). */
import { describe, expect, it } from 'vitest';
import type { RepoRecord } from '../../../src/server/store/repo-store.js';
import { useFreshStore, type OpenStore } from '../fixtures.js';

const repo = (fields: Partial<RepoRecord> = {}): RepoRecord => ({
  user: 'ada',
  remote: 'git@github.com:ada/gpt-2.git',
  credential: 'ssh-key',
  sealed: 'v1:sealed-bytes',
  createdAt: 1_700_000_000_000,
  ...fields,
});

export function describeRepos(open: OpenStore): void {
  describe('repos', () => {
    const store = useFreshStore(open);

    it('putRepo then getRepo returns it; an unknown user or remote is undefined', async () => {
      await store().putRepo(repo());
      expect(await store().getRepo('ada', 'git@github.com:ada/gpt-2.git')).toStrictEqual(repo());
      expect(await store().getRepo('bob', 'git@github.com:ada/gpt-2.git')).toBeUndefined();
      expect(await store().getRepo('ada', 'https://github.com/ada/gpt-2.git')).toBeUndefined();
    });

    it('putRepo for the same user and remote replaces the credential; a credential of kind none has no sealed value', async () => {
      await store().putRepo(repo());
      const replaced = repo({ credential: 'none', createdAt: 1_700_000_000_001 });
      delete replaced.sealed;
      await store().putRepo(replaced);
      expect(await store().getRepo('ada', replaced.remote)).toStrictEqual(replaced);
      expect(await store().listRepos('ada')).toHaveLength(1);
    });

    it("listRepos gives one user's repos by remote; two users may register the same remote", async () => {
      await store().putRepo(repo({ remote: 'https://github.com/ada/z.git', credential: 'token' }));
      await store().putRepo(repo({ remote: 'https://github.com/ada/a.git', credential: 'token' }));
      await store().putRepo(repo({ user: 'bob', remote: 'https://github.com/ada/a.git' }));
      expect((await store().listRepos('ada')).map((r) => r.remote)).toStrictEqual([
        'https://github.com/ada/a.git',
        'https://github.com/ada/z.git',
      ]);
      expect((await store().listRepos('bob')).map((r) => r.user)).toStrictEqual(['bob']);
      expect(await store().listRepos('carol')).toStrictEqual([]);
    });

    it("deleteRepos forgets one user's repos and says how many; another user's stay", async () => {
      await store().putRepo(repo());
      await store().putRepo(repo({ remote: 'https://github.com/ada/a.git', credential: 'token' }));
      await store().putRepo(repo({ user: 'bob' }));
      expect(await store().deleteRepos('ada')).toBe(2);
      expect(await store().listRepos('ada')).toStrictEqual([]);
      expect(await store().getRepo('ada', repo().remote)).toBeUndefined();
      expect((await store().listRepos('bob')).map((r) => r.user)).toStrictEqual(['bob']);
      expect(await store().deleteRepos('ada')).toBe(0);
    });
  });
}
