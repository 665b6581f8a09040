import { describe, expect, it } from 'vitest';
import { projectKey, remotePath } from '../../src/core/projects.js';

describe('projectKey', () => {
  it('is the same for every URL form of one remote', () => {
    for (const remote of [
      'https://github.com/org/repo.git',
      'https://github.com/org/repo',
      'https://github.com/org/repo/',
      'http://GitHub.com/Org/Repo.git',
      'git@github.com:org/repo.git',
      'github.com:org/repo',
      'ssh://git@github.com/org/repo.git',
      'ssh://git@github.com:22/org/repo',
      'git://github.com/org/repo.git',
    ]) {
      expect(remotePath(remote), remote).toBe('github.com/org/repo');
    }
  });

  it("keeps a remote on this machine as its absolute path, a relative one taken from the repo's folder", () => {
    expect(remotePath('/srv/git/Repo.git')).toBe('/srv/git/Repo');
    expect(remotePath('file:///srv/git/repo.git/')).toBe('/srv/git/repo');
    expect(remotePath('../repo', '/home/ada/work')).toBe('/home/ada/repo');
    expect(remotePath('git@gitlab.com:Group/Sub/Repo.git')).toBe('gitlab.com/group/sub/repo');
    // Two repos with the same relative remote are not one project.
    const a = projectKey({ root: '/home/ada/a/ml', remote: '../vision', subdir: 'ml' });
    expect(a).toBe('/home/ada/vision#ml');
    expect(projectKey({ root: '/tmp/b', remote: '../vision' })).toBe('/tmp/vision');
  });

  it("adds the project's folder inside the repo; without a remote it is the project's root", () => {
    expect(projectKey({ root: '/home/ada/gpt/ml', remote: 'git@github.com:ada/gpt.git', subdir: 'ml' })).toBe(
      'github.com/ada/gpt#ml',
    );
    expect(projectKey({ root: '/tmp/clone', remote: 'https://github.com/ada/gpt' })).toBe('github.com/ada/gpt');
    expect(projectKey({ root: '/home/ada/notes', subdir: 'x' })).toBe('/home/ada/notes');
  });
});
