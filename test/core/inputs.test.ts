import { describe, expect, it } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { inputMatcher, unmatchedInputs } from '../../src/core/inputs.js';
import { yaml } from '../config/helpers.js';

const config = buildProject(
  '/p',
  yaml(
    'workflows:',
    '  - name: prepare',
    '    inputs: [src/**/*.py, src, conf/*.yaml]',
    '    commands: [true]',
    '  - name: train',
    '    depends-on: {repo: {include: [train.pyy]}, workflows: [prepare]}',
    '    commands: [true]',
    '  - name: other',
    '    inputs: [nothing/**]',
    '    commands: [true]',
  ),
);
const FILES = ['src/data/load.py', 'src/README.md', '.env', 'train.py'];

describe('inputs', () => {
  it('match paths from the project root, dotfiles included', () => {
    const match = inputMatcher(['src/**/*.py', '.*']);
    expect(FILES.filter(match)).toEqual(['src/data/load.py', '.env']);
  });

  it("warn of each planned workflow's glob that matches no file, where it is written", () => {
    expect(unmatchedInputs(config, new Set(['prepare', 'train']), FILES)).toEqual([
      ".dstack/workflows.yaml:3:27: input 'src' of workflow prepare matches no file of the project; for the files in folder src, write 'src/**'",
      ".dstack/workflows.yaml:3:32: input 'conf/*.yaml' of workflow prepare matches no file of the project (only files that match its 'inputs' count for the cache)",
      ".dstack/workflows.yaml:6:35: input 'train.pyy' of workflow train matches no file of the project (only files that match its 'inputs' count for the cache)",
    ]);
  });

  it('say nothing of workflows not planned, or when every glob matches', () => {
    expect(unmatchedInputs(config, new Set(['other']), ['nothing/x'])).toEqual([]);
    expect(unmatchedInputs(config, new Set(['prepare']), [...FILES, 'src', 'conf/a.yaml'])).toEqual([]);
  });
});
