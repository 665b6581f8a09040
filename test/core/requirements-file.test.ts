import { describe, expect, it } from 'vitest';
import { localPipSetting, localReference, wheelFolders } from '../../src/core/requirements-file.js';

describe('localReference', () => {
  it('finds nothing in a file of packages from an index or remote URLs', () => {
    const text = [
      '# training',
      'numpy>=1.24  # pinned below',
      'torch==2.1.0 ; python_version >= "3.9"',
      'requests[socks]',
      'tinypkg @ https://example.com/tinypkg-0.1-py3-none-any.whl',
      'git+https://github.com/org/repo.git@v1#egg=repo',
      '--index-url https://pypi.example.com/simple',
      '--extra-index-url=https://more.example.com/simple',
      '-f https://example.com/wheels/',
      '--pre',
      '--only-binary :all:',
      'scipy==1.11 \\',
      '    --hash=sha256:0123abcd',
      '',
    ].join('\n');
    expect(localReference(text)).toBeUndefined();
  });

  it.each([
    ['./evilpkg', './evilpkg'],
    ['.', '.'],
    ['../shared/pkg', '../shared/pkg'],
    ['/opt/pkg', '/opt/pkg'],
    ['pkg/sub', 'pkg/sub'],
    ['tinypkg-0.1-py3-none-any.whl', 'tinypkg-0.1-py3-none-any.whl'],
    ['dist/pkg.tar.gz', 'dist/pkg.tar.gz'],
    ['-e .', '-e .'],
    [
      '--editable=git+https://github.com/org/repo.git#egg=repo',
      '--editable=git+https://github.com/org/repo.git#egg=repo',
    ],
    ['-r base.txt', '-r base.txt'],
    ['-rbase.txt', '-rbase.txt'],
    ['--requirement base.txt', '--requirement base.txt'],
    ['-c constraints.txt', '-c constraints.txt'],
    ['file:///home/me/pkg', 'file:///home/me/pkg'],
    ['pkg @ file:///home/me/pkg', 'pkg @ file:///home/me/pkg'],
    ['pkg @ ./pkg', 'pkg @ ./pkg'],
    ['git+file:///srv/repo#egg=repo', 'git+file:///srv/repo#egg=repo'],
    ['--find-links wheels', '--find-links wheels'],
    ['-fwheels', '-fwheels'],
    ['--index-url=/srv/simple', '--index-url=/srv/simple'],
    ['private @ https://${TOKEN}@example.com/p.whl', 'private @ https://${TOKEN}@example.com/p.whl'],
  ])('finds %s', (line, found) => {
    expect(localReference(`numpy\n${line}  # a comment\nscipy\n`)).toBe(found);
  });

  it('joins continued lines and ignores comments, as pip does', () => {
    expect(localReference('--find-links \\\n  wheels\n')).toBe('--find-links    wheels');
    expect(localReference('# ./not-a-path\nnumpy # ./nor-this\n')).toBeUndefined();
  });
});

describe('localPipSetting', () => {
  it('finds nothing in settings that name remote URLs or no files', () => {
    const env = {
      PIP_INDEX_URL: 'https://pypi.example.com/simple',
      PIP_EXTRA_INDEX_URL: 'https://a.example.com/simple  https://b.example.com/simple',
      PIP_FIND_LINKS: 'https://example.com/wheels/',
      PIP_NO_INDEX: '1',
      PIP_CONFIG_FILE: '/dev/null', // pip's way to read no config file
      PIP_CERT: '/etc/ssl/ca.pem', // how to reach the index, not what it serves
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
    };
    expect(localPipSetting(env)).toBeUndefined();
  });

  it.each([
    ['PIP_FIND_LINKS', 'file:wheels', 'file:wheels'], // a URL of no folder it can list
    ['PIP_FIND_LINKS', 'https://example.com/wheels/ file://host/wheels', 'file://host/wheels'],
    ['PIP_INDEX_URL', '/srv/simple', '/srv/simple'],
    ['PIP_INDEX_URL', 'file:///srv/simple', 'file:///srv/simple'],
    ['PIP_EXTRA_INDEX_URL', 'https://a.example.com/simple\t../simple', '../simple'],
    ['PIP_CONSTRAINT', 'https://example.com/constraints.txt', 'https://example.com/constraints.txt'],
    ['PIP_REQUIREMENT', 'extra.txt', 'extra.txt'],
    ['PIP_EDITABLE', '.', '.'],
    ['PIP_CONFIG_FILE', '/etc/ci/pip.conf', '/etc/ci/pip.conf'],
    ['PIP_constraint', 'c.txt', 'c.txt'], // pip reads it as constraint too
  ])('finds %s=%s', (name, value, local) => {
    expect(localPipSetting({ PATH: '/usr/bin', PIP_NO_INDEX: '1', [name]: value })).toEqual({ name, local });
  });

  it('ignores variables that are not pip settings, and empty settings', () => {
    expect(localPipSetting({ FIND_LINKS: '/opt/wheels', PIPX_HOME: '/opt/pipx', PIP_FIND_LINKS: '' })).toBeUndefined();
  });
});

describe('wheelFolders', () => {
  it('lists the local folders find-links names, as paths, and no URL of another machine', () => {
    const env = { PIP_FIND_LINKS: 'https://example.com/wheels/ /opt/wheels  wheels file:///srv/my%20wheels file:x' };
    expect(wheelFolders(env)).toEqual(['/opt/wheels', 'wheels', '/srv/my wheels']);
    expect(wheelFolders({ PIP_find_links: './w', FIND_LINKS: '/x', PIP_INDEX_URL: '/srv/simple' })).toEqual(['./w']);
  });

  it('leaves them out of the settings that stop the cache: their listing keys it', () => {
    expect(localPipSetting({ PIP_FIND_LINKS: '/opt/wheels wheels file:///srv/wheels' })).toBeUndefined();
  });

  it('takes a file URL of no path it can read as local, not as a folder (nor an error)', () => {
    expect(wheelFolders({ PIP_FIND_LINKS: 'file:///srv/%zz /opt/wheels' })).toEqual(['/opt/wheels']);
    expect(localPipSetting({ PIP_FIND_LINKS: 'file:///srv/%zz' })).toEqual({
      name: 'PIP_FIND_LINKS',
      local: 'file:///srv/%zz',
    });
  });
});
