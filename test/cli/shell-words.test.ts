/** Splitting a flag's value into words as sh does, with no shell. */
import { describe, expect, it } from 'vitest';
import { splitShellWords } from '../../src/cli/shell-words.js';

describe('shell words', () => {
  it('splits on runs of blanks, and quotes keep blanks inside one word', () => {
    expect(splitShellWords('  --qos=high \t --time=4:00:00\n')).toEqual(['--qos=high', '--time=4:00:00']);
    expect(splitShellWords(`--comment="my team" --job-name='a b'c -x`)).toEqual([
      '--comment=my team',
      '--job-name=a bc',
      '-x',
    ]);
    expect(splitShellWords('')).toEqual([]);
    expect(splitShellWords(`'' ""`)).toEqual(['', '']);
  });

  it('escapes as sh does: a backslash outside quotes, some characters inside double quotes, none in single', () => {
    expect(splitShellWords(String.raw`--comment=it\'s a\ b`)).toEqual(["--comment=it's", 'a b']);
    expect(splitShellWords(String.raw`"say \"hi\" \$5 \n"`)).toEqual([String.raw`say "hi" $5 \n`]);
    expect(splitShellWords(String.raw`'C:\dir' "it's"`)).toEqual([String.raw`C:\dir`, "it's"]);
    expect(splitShellWords('--a \\\n--b')).toEqual(['--a', '--b']);
  });

  it('expands nothing: no shell sees the words', () => {
    expect(splitShellWords('--chdir=$HOME/* ~ `id`')).toEqual(['--chdir=$HOME/*', '~', '`id`']);
  });

  it('names the quote never closed, where it opens, and a backslash with nothing after it', () => {
    expect(() => splitShellWords('--qos=high --comment="my team')).toThrow('the " at character 22 is never closed');
    expect(() => splitShellWords(`--comment='it`)).toThrow("the ' at character 11 is never closed");
    expect(() => splitShellWords('--comment=x\\')).toThrow('a backslash ends it (character 12)');
  });
});
