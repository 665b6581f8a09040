/** `dstack artifacts`'s words: a job, or later dstack's `list JOB` and `download JOB -o DIR`. */
import { describe, expect, it } from 'vitest';
import { artifactsTarget } from '../../src/cli/commands/artifacts.js';

/** The message artifactsTarget refuses `args` with. */
function refusal(args: string[], options: { output?: string } = {}): string {
  try {
    artifactsTarget(args, options);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
}

const USAGE = "dstack artifacts JOB lists a job's files, and dstack artifacts JOB -o DIR downloads them";

describe('dstack artifacts arguments', () => {
  it('takes a job, list JOB and download JOB', () => {
    expect(artifactsTarget(['abcdefabcdef'], {})).toBe('abcdefabcdef');
    expect(artifactsTarget(['list', 'abcdefabcdef'], {})).toBe('abcdefabcdef');
    expect(artifactsTarget(['download', 'abcdefabcdef'], { output: 'out' })).toBe('abcdefabcdef');
  });

  it('suggests the verb a misspelt one was meant to be', () => {
    expect(refusal(['donwload', 'abcdefabcdef'], { output: 'out' })).toBe(
      `dstack artifacts takes one job, not 'donwload abcdefabcdef': ${USAGE}; did you mean 'download'?`,
    );
    expect(refusal(['abcdefabcdef', 'abcdefabcdef'])).toBe(
      `dstack artifacts takes one job, not 'abcdefabcdef abcdefabcdef': ${USAGE}`,
    );
  });
});
