/** Image references as Docker reads them: what a workflow may name, and what never reaches an engine. */
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { isImageReference } from '../../src/core/image-reference.js';
import { ensureImage } from '../../src/runner/executors/docker/image.js';
import { jobSpec } from '../../src/server/api/schemas.js';

describe('isImageReference', () => {
  it('takes names, tags, digests, registries with ports and nested paths', () => {
    for (const ok of [
      'ubuntu',
      'ubuntu:22.04',
      'python:3.11-slim',
      'dstack-test/python:3.11',
      'nvcr.io/nvidia/pytorch:24.01-py3',
      'localhost:5000/team/train:v2',
      'registry.example.com/a_b/c__d/e--f.g:Latest_1',
      `alpine@sha256:${'a'.repeat(64)}`,
      `ghcr.io/org/img:tag@sha256:${'0'.repeat(64)}`,
      '[::1]:5000/img',
    ])
      expect(isImageReference(ok), ok).toBe(true);
  });

  it("refuses what the engine would not take, or would answer with a redirect its client can't follow", () => {
    for (const bad of [
      '',
      'a//b',
      'x/../y',
      './x',
      'Ubuntu:22.04',
      'ubuntu:',
      'ubuntu:-x',
      'ubuntu 22.04',
      '/ubuntu',
      'ubuntu/',
      'a/b:c:d',
      'alpine@sha256:abc',
      `ubuntu:${'t'.repeat(129)}`,
    ])
      expect(isImageReference(bad), bad).toBe(false);
  });
});

describe('ensureImage', () => {
  it('fails the job on a name no engine takes, before asking the engine', async () => {
    const untouchable = new Proxy({} as Docker, {
      get: () => {
        throw new Error('the engine was asked');
      },
    });
    await expect(ensureImage(untouchable, 'a//b')).rejects.toThrow(
      "invalid image 'a//b': expected an image reference like ubuntu:22.04",
    );
  });
});

describe("the server's job spec", () => {
  it('refuses a submitted image that is no reference (an older CLI, a provider), saying what one looks like', () => {
    const result = jobSpec.shape.image.safeParse('x/../y');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/^an image reference like ubuntu:22\.04/);
    expect(jobSpec.shape.image.safeParse('ubuntu:22.04').success).toBe(true);
  });
});
