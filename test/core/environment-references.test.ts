/** References in `environment:` values: expanded on the host, exported by the shell in a container, alike. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { expandReferences, exportLine, hasReferences } from '../../src/core/environment-references.js';

const env = { PATH: '/usr/bin:/bin', HOME: '/home/ada', EMPTY: '' };

/** What bash makes of the export line, in the same environment. */
function exported(value: string): string {
  const script = `${exportLine('X', value)}\nprintf %s "$X"`;
  return execFileSync('bash', ['--noprofile', '--norc', '-c', script], { env, encoding: 'utf8' });
}

describe('environment references', () => {
  const cases: [value: string, expanded: string][] = [
    ['/opt/conda/bin:$PATH', '/opt/conda/bin:/usr/bin:/bin'],
    ['${HOME}/data', '/home/ada/data'],
    ['$HOME$HOME', '/home/ada/home/ada'],
    ['a$UNSET-b', 'a-b'],
    ['price: 5$$ and $$HOME', 'price: 5$ and $HOME'],
    ['$1 $ ${1} ${not closed', '$1 $ ${1} ${not closed'],
    ['it\'s "quoted" `not run` $(not run) \\n', 'it\'s "quoted" `not run` $(not run) \\n'],
    ['$EMPTY', ''],
  ];

  it('expands $NAME and ${NAME} from the environment, $$ to $, and leaves every other $ as it is', () => {
    for (const [value, expanded] of cases) {
      expect(expandReferences(value, env), value).toBe(expanded);
      hasReferences(value); // asked first, as jobs do: no state carried from one call to the next
      expect(expandReferences(value, env), value).toBe(expanded);
    }
  });

  it("exports each value so that the job's shell makes the same of it, running nothing", () => {
    for (const [value, expanded] of cases) expect(exported(value), value).toBe(expanded);
  });

  it('tells a value with references or $$ from plain text', () => {
    expect(hasReferences('/opt/bin:$PATH')).toBe(true);
    expect(hasReferences('5$$')).toBe(true);
    expect(hasReferences('$1 costs $ 5')).toBe(false);
    expect(hasReferences('plain')).toBe(false);
  });
});
