/** Where dstack looks for the project's files, and a `.yml` file found there in place of a `.yaml` one. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProjectRoot, misnamedProjectFile } from '../../src/config/project-root.js';

/** A fresh folder with `files` written under it (paths relative to it). */
async function folderWith(files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-project-root-'));
  for (const file of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), 'workflows: []\n');
  }
  return dir;
}

describe('misnamedProjectFile', () => {
  it('names a .yml project file in the folder or one above it, where no project is found', async () => {
    const dir = await folderWith(['p/.dstack/providers.yml']);
    const cwd = join(dir, 'p', 'src');
    await mkdir(cwd);
    expect(misnamedProjectFile(cwd, findProjectRoot(cwd))).toBe(
      `found .dstack/providers.yml in ${join(dir, 'p')}: dstack reads .dstack/providers.yaml; rename it`,
    );
  });

  it("names one below the project found, and one beside the project's own files whose .yaml is missing", async () => {
    const dir = await folderWith(['.dstack/workflows.yaml', 'sub/.dstack/workflows.yml']);
    expect(misnamedProjectFile(join(dir, 'sub'), dir)).toMatch(/^found \.dstack\/workflows\.yml in .*sub: /);
    const beside = await folderWith(['.dstack/workflows.yaml', '.dstack/variables.yml']);
    expect(misnamedProjectFile(beside, beside)).toMatch(/^found \.dstack\/variables\.yml in /);
  });

  it('names none above the project found, nor one whose .yaml is there too', async () => {
    const dir = await folderWith(['.dstack/workflows.yml', 'p/.dstack/workflows.yaml', 'p/.dstack/workflows.yml']);
    const project = join(dir, 'p');
    expect(misnamedProjectFile(project, findProjectRoot(project))).toBeUndefined();
  });
});
