import { describe, expect, it } from 'vitest';
import { buildProject, parseProviders } from '../../src/config/index.js';
import { configError, yaml } from './helpers.js';

const file = '.dstack/providers.yaml';

describe('parseProviders', () => {
  it('reads each provider with its image, commands and place', () => {
    const text = yaml(
      'providers:',
      '    - name: docker-ports',
      '      image: python:3.9',
      '      commands:',
      '        - pip3 install -r providers/docker-ports/requirements.txt',
    );
    expect(parseProviders(text)).toEqual([
      {
        name: 'docker-ports',
        image: 'python:3.9',
        commands: ['pip3 install -r providers/docker-ports/requirements.txt'],
        location: { file, line: 2, column: 7 },
      },
    ]);
  });

  it('refuses an unknown key, with the key meant, rather than run the provider without it', () => {
    const text = yaml('providers:', '  - name: a', '    image: python:3.9', '    comands:', '      - python3 a.py');
    expect(configError(() => parseProviders(text)).message).toBe(
      `${file}:4:5: unknown key 'comands' in provider 'a' (did you mean 'commands'?)`,
    );
  });

  it('takes an empty file or an empty list as no providers', () => {
    expect(parseProviders('')).toEqual([]);
    expect(parseProviders('providers:\n')).toEqual([]);
  });

  it('reports a provider without a name', () => {
    expect(configError(() => parseProviders(yaml('providers:', '  - image: python:3.9'))).message).toBe(
      `${file}:2:5: provider #1 has no 'name'`,
    );
  });

  it('reports providers that are not a list', () => {
    expect(configError(() => parseProviders(yaml('providers:', '  hello: x'))).message).toBe(
      `${file}:1:1: 'providers' must be a list of providers (- name: ...), not a mapping`,
    );
  });

  it('reports a name defined twice, with the first line', () => {
    const text = yaml('providers:', '  - name: a', '  - name: a');
    expect(configError(() => parseProviders(text)).message).toBe(
      `${file}:3:11: duplicate provider name 'a': already defined at line 2`,
    );
  });

  it('reports a misspelt top-level key', () => {
    expect(configError(() => parseProviders(yaml('provider:', '  - name: a'))).message).toBe(
      `${file}:1:1: unknown top-level key 'provider' (did you mean 'providers'?)`,
    );
  });

  it('is part of the project when the file exists', () => {
    const project = buildProject(
      '/p',
      yaml('workflows:', '  - name: w', '    provider: hello'),
      undefined,
      'providers:\n  - name: hello\n',
    );
    expect(project.providers).toEqual([{ name: 'hello', commands: [], location: { file, line: 2, column: 5 } }]);
  });
});
