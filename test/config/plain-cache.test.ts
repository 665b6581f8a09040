/**
 * The CLI keeps what js-yaml read from each config file (plain-cache.ts). A project read
 * through the cache must be the project read without it, errors and locations included, and
 * an entry must never stand for another text or another reader.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { FAST_READER, readPlainFast } from '../../src/config/fast-yaml.js';
import { cachedReader } from '../../src/config/plain-cache.js';
import type { Plain } from '../../src/config/yaml-source.js';
import { ConfigError } from '../../src/core/errors.js';
import { yaml } from './helpers.js';

let dir: string;
let cache: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dstack-plain-cache-'));
  cache = join(dir, 'cache');
  mkdirSync(join(dir, 'project', '.dstack'), { recursive: true });
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

const WORKFLOWS = yaml(
  'workflows:',
  '  - name: prepare',
  '    commands: [python prepare.py]',
  '    artifacts: [data]',
  '  - name: train',
  '    depends-on: [prepare]',
  '    commands:',
  '      - python train.py --lr ${{ lr }}',
);
const VARIABLES = yaml('variables:', '  train:', '    lr: 0.001');

function writeProject(workflows: string, variables = VARIABLES): void {
  writeFileSync(join(dir, 'project', '.dstack', 'workflows.yaml'), workflows);
  writeFileSync(join(dir, 'project', '.dstack', 'variables.yaml'), variables);
}

/** The project as plain JSON, locations read out (they are lazy), or the error's fields. */
async function outcome(options: { plainCache?: string } = {}): Promise<unknown> {
  try {
    return { ok: JSON.parse(JSON.stringify(await loadProject(join(dir, 'project'), options))) as unknown };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { error: e.message, location: e.location, field: e.field };
  }
}

/** A reader that counts the reads that reached it. */
function counting(): { read: (text: string) => Plain | undefined; calls: () => number } {
  let calls = 0;
  return {
    read: (text) => (calls++, readPlainFast(text)),
    calls: () => calls,
  };
}

describe('loadProject with a plain cache', () => {
  it('reads the same project from the cache as from the files, and keeps one entry per file', async () => {
    writeProject(WORKFLOWS);
    const fresh = await outcome();
    expect(await outcome({ plainCache: cache })).toEqual(fresh); // a miss: read, then stored
    expect(readdirSync(cache).sort()).toHaveLength(2); // workflows.yaml and variables.yaml
    expect(await outcome({ plainCache: cache })).toEqual(fresh); // a hit
  });

  it('keeps file, line and column in errors found after the read', async () => {
    // Valid YAML, so js-yaml reads it and the entry is kept; the check of `cpu` fails after.
    writeProject(
      yaml(
        'workflows:',
        '  - name: prepare',
        '    commands: [python prepare.py]',
        '    resources:',
        '      interruptible: maybe',
      ),
    );
    const fresh = await outcome();
    expect(fresh).toMatchObject({
      error:
        ".dstack/workflows.yaml:5:22: 'resources.interruptible' of workflow 'prepare' must be true or false, not 'maybe'",
    });
    expect(await outcome({ plainCache: cache })).toEqual(fresh);
    expect(await outcome({ plainCache: cache })).toEqual(fresh);
  });

  it('reads an edited file again instead of its old entry, and replaces the entry', async () => {
    writeProject(WORKFLOWS);
    await outcome({ plainCache: cache });
    writeProject(WORKFLOWS.replace('python train.py', 'python train2.py'));
    const edited = await outcome({ plainCache: cache });
    expect(JSON.stringify(edited)).toContain('python train2.py');
    expect(edited).toEqual(await outcome());
    expect(readdirSync(cache)).toHaveLength(2);
  });
});

describe('cachedReader', () => {
  const path = '/projects/a/.dstack/workflows.yaml';

  it('reads a text once, then answers from the entry', () => {
    expect(readPlainFast(WORKFLOWS)).toBeDefined(); // a file the fast read takes
    const reader = counting();
    const read = cachedReader(cache, path, reader.read);
    const first = read(WORKFLOWS);
    expect(read(WORKFLOWS)).toEqual(first);
    expect(cachedReader(cache, path, reader.read)(WORKFLOWS)).toEqual(first); // a later call, a new reader
    expect(reader.calls()).toBe(1);
    expect(first).toEqual(readPlainFast(WORKFLOWS));
  });

  it('keeps entries of different files apart', () => {
    const reader = counting();
    cachedReader(cache, path, reader.read)(WORKFLOWS);
    cachedReader(cache, '/projects/b/.dstack/workflows.yaml', reader.read)(WORKFLOWS);
    expect(reader.calls()).toBe(2);
    expect(readdirSync(cache)).toHaveLength(2);
  });

  it('does not use an entry written by another reader', () => {
    const reader = counting();
    cachedReader(cache, path, reader.read)(WORKFLOWS);
    const [name] = readdirSync(cache);
    const file = join(cache, name!);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { key: string; plain: unknown };
    // The same text under a key made with another reader's name, and content that is not the file's.
    const otherKey = createHash('sha256').update(`another reader\0${WORKFLOWS}`).digest('hex');
    writeFileSync(file, JSON.stringify({ key: otherKey, plain: { workflows: [] } }));
    expect(cachedReader(cache, path, reader.read)(WORKFLOWS)).toEqual(entry.plain);
    expect(reader.calls()).toBe(2);
  });

  it('reads the text again when the entry is damaged, and writes it anew', () => {
    const reader = counting();
    cachedReader(cache, path, reader.read)(WORKFLOWS);
    const file = join(cache, readdirSync(cache)[0]!);
    for (const damaged of ['{"key": "trunc', 'null', '{}', '[]']) {
      writeFileSync(file, damaged);
      expect(cachedReader(cache, path, reader.read)(WORKFLOWS)).toEqual(readPlainFast(WORKFLOWS));
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ plain: readPlainFast(WORKFLOWS) });
    }
    expect(reader.calls()).toBe(5);
  });

  it('stores nothing for a text the fast read declines (the full parse explains it each time)', () => {
    const reader = counting();
    const declined = 'workflows:\n  - name: [unclosed\n';
    expect(cachedReader(cache, path, reader.read)(declined)).toBeUndefined();
    expect(cachedReader(cache, path, reader.read)(declined)).toBeUndefined();
    expect(reader.calls()).toBe(2);
    expect(existsSync(cache)).toBe(false);
  });

  it('still reads when the cache folder cannot be written', () => {
    mkdirSync(cache);
    chmodSync(cache, 0o500);
    const reader = counting();
    const read = cachedReader(cache, path, reader.read);
    expect(read(WORKFLOWS)).toEqual(readPlainFast(WORKFLOWS));
    expect(read(WORKFLOWS)).toEqual(readPlainFast(WORKFLOWS));
    // root may write anyway; either way nothing half-written is left behind.
    expect(readdirSync(cache).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('writes its entries for the user alone', () => {
    cachedReader(cache, path, readPlainFast)(WORKFLOWS);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(statSync(join(cache, readdirSync(cache)[0]!)).mode & 0o777).toBe(0o600);
  });
});

describe('FAST_READER', () => {
  it('names the js-yaml version installed (a new js-yaml must change it, so old entries go unused)', () => {
    const pkg = new URL('../../node_modules/js-yaml/package.json', import.meta.url);
    const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
    expect(FAST_READER).toContain(`js-yaml ${version},`);
  });
});
