/**
 * `$epoch` in a command of a workflow whose variable is `epochs`: dstack leaves a `$name` that
 * is no variable to the shell, which reads a name set nowhere as empty, and the job runs on
 * with it. So a reference the shell would expand that is one edit (suggest.ts's distance) from
 * a name dstack gives the job, and that nothing dstack knows of sets, draws a warning (never an
 * error: the job may set it in a way this cannot see, `source env.sh`). Known, and never
 * warned about: the names dstack gives the job (each variable, upper-cased too; `environment:`
 * keys; DSTACK_*, run_name, job_id, what the runner adds), names every shell or login session
 * sets (HOME, PATH, USER, LANG, LC_*, BASH_*…), and names the workflow's commands set
 * themselves (`epoch=3` where a command starts, `export epoch=3`, `for epoch in`, `read epoch`,
 * `${epoch:=3}`; not the argument `epoch=$epoch`, which sets nothing). The rest of a job's
 * environment (the runner's host, an image) is not known when a run is planned.
 */
import { DSTACK_ENVIRONMENT } from './runtime-variables.js';
import { distance } from './suggest.js';
import { RUNTIME_VARIABLES, VARIABLES_AS_ARGS } from './variables.js';

/** A name written in a command, and the one it is one edit from, as the command should write it. */
export interface MisspeltReference {
  /** As written: `$epoch`, `${batch_sise}`. */
  written: string;
  /** As it was likely meant: `$epochs`, `${batch_size}`, `$EPOCHS`. */
  meant: string;
}

/** Names a POSIX shell, bash, or a login session sets for every job, wherever it runs. */
const SHELL_NAMES = new Set([
  ...['HOME', 'PATH', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'OLDPWD', 'TERM', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR'],
  ...['HOSTNAME', 'HOSTTYPE', 'OSTYPE', 'MACHTYPE', 'UID', 'EUID', 'PPID', 'GROUPS', 'SHLVL', 'MAIL', 'IFS'],
  ...['RANDOM', 'SRANDOM', 'SECONDS', 'LINENO', 'EPOCHSECONDS', 'EPOCHREALTIME', 'FUNCNAME', 'PIPESTATUS'],
  ...['REPLY', 'OPTARG', 'OPTIND', 'OPTERR', 'PS1', 'PS2', 'PS3', 'PS4', 'COLUMNS', 'LINES', 'HISTFILE'],
  ...['ENV', 'CDPATH', 'EDITOR', 'PAGER', 'DISPLAY', 'LD_LIBRARY_PATH', 'LD_PRELOAD', 'PYTHONPATH'],
  // What the runner adds: the GPUs it assigned, Python's unbuffered output, a job's virtualenv.
  ...['CUDA_VISIBLE_DEVICES', 'PYTHONUNBUFFERED', 'VIRTUAL_ENV'],
]);
const SHELL_PREFIXES = /^(?:BASH|LC_|XDG_|DSTACK_)/;

/** Shorter names are not checked, either side: one edit there makes another name entirely (`$i`, `$n`). */
const MIN_LENGTH = 3;

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
// Names the commands set wherever they are: `for x`, `select x`, `${x:=v}`, `${x=v}`.
const ASSIGNED = new RegExp(`\\b(?:for|select)\\s+(${NAME})\\b|\\$\\{(${NAME}):?=`, 'g');
// Where a command starts: the text's start, a new line, and after `;`, `&`, `|`, `(`, `` ` `` (so `&&`, `||`, `$(`).
const COMMAND_START = /^|[\n;&|(`]/g;
// Words that leave the next word in command position: `if x=1`, `; then x=1`, `{ x=1; }`.
const RESERVED = /[ \t]*(?:then|do|else|elif|if|while|until|time|!|\{)(?=[ \t\n]|$)/y;
// An assignment word in command position, with its value: `x=1`, `x+=a`, `x[0]="a b"`, `x=$(date)`.
const ASSIGNMENT = new RegExp(
  `[ \\t]*(${NAME})(?:\\[[^\\]]*\\])?\\+?=(?:"(?:[^"\\\\]|\\\\.)*"|'[^']*'|\\$\\([^)]*\\)|\\\\.|[^\\s;&|()<>"'\\\\])*`,
  'y',
);
// Builtins that set the names among their words (`export x=1`, `local x`), up to the end of the command.
const DECLARES = /[ \t]*(?:export|local|declare|typeset|readonly)\b((?:[ \t]+[^\s;&|<>()]+)*)/y;
const DECLARED = new RegExp(`^(${NAME})(?:\\[[^\\]]*\\])?\\+?(?:=|$)`);
// `read` and `mapfile`/`readarray` set the names among their words, up to the end of the command.
const READS = /\b(?:read|mapfile|readarray)((?:[ \t]+[^\s;&|<>()]+)*)/g;
const WHOLE_NAME = new RegExp(`^${NAME}$`);
// `${learning-rat}` too: the shell reads it as `$learning`, or `rat` when that is unset.
const REFERENCE = new RegExp(`\\$\\{\\{[^}]*\\}\\}|\\$\\{([A-Za-z_][A-Za-z0-9_-]*)\\}|\\$(${NAME})`, 'y');

/** What a workflow gives and sets: its variables (system ones too), `environment:` keys and commands. */
export interface KnownNames {
  variables: readonly string[];
  environment: readonly string[];
  /** All the workflow's commands: they run in one shell, so what one sets the next may read. */
  commands: readonly string[];
}

/** A check of one workflow's commands: each one's misspelt references, each name once, in order. */
export function misspeltReferenceCheck(known: KnownNames): (command: string) => MisspeltReference[] {
  let names: ReturnType<typeof namesOf> | undefined;
  let assigned: Set<string> | undefined;
  return (text) => {
    const found = new Map<string, MisspeltReference>();
    for (const { name, braced } of shellReferences(text)) {
      if (found.has(name) || name.length < MIN_LENGTH || SHELL_NAMES.has(name) || SHELL_PREFIXES.test(name)) continue;
      names ??= namesOf(known);
      if (names.set.has(name)) continue;
      // `$LEARNING_RATE` for `learning-rate`, whose environment name keeps its dash: no typo, but as empty.
      const meant =
        names.dashed.get(name) ?? names.candidates.find((c) => c.length >= MIN_LENGTH && distance(name, c) === 1);
      if (meant === undefined || (assigned ??= assignedIn(known.commands)).has(name)) continue;
      found.set(name, { written: reference(name, braced), meant: reference(meant, braced) });
    }
    return [...found.values()];
  };
}

/** How a command names `name`: braced when it was, and always for a dashed name, which the shell splits. */
function reference(name: string, braced: boolean): string {
  return braced || name.includes('-') ? `\${${name}}` : `$${name}`;
}

/**
 * The names dstack gives the job, in the order a suggestion prefers them; and the set of them.
 * `dashed`: a dashed variable by the name a shell user writes for its environment name, which
 * keeps the dash (`LEARNING_RATE` for `learning-rate`, whose `LEARNING-RATE` no shell can name).
 */
function namesOf(known: KnownNames): { candidates: string[]; set: Set<string>; dashed: Map<string, string> } {
  const variables = [...known.variables, ...RUNTIME_VARIABLES, VARIABLES_AS_ARGS];
  // Each variable is in the job's environment upper-cased: `$EPOCH` is a typo of `$EPOCHS`.
  const upper = variables.map((v) => v.toUpperCase()).filter((v) => WHOLE_NAME.test(v));
  const candidates = [...variables, ...upper, ...known.environment, ...DSTACK_ENVIRONMENT];
  const dashed = new Map(
    variables.filter((v) => v.includes('-')).map((v) => [v.toUpperCase().replaceAll('-', '_'), v] as const),
  );
  return { candidates, set: new Set(candidates), dashed };
}

function assignedIn(commands: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const command of commands) {
    for (const m of command.matchAll(ASSIGNED)) names.add((m[1] ?? m[2])!);
    for (const m of command.matchAll(COMMAND_START)) {
      for (const name of setAtCommandStart(command, m.index + m[0].length)) names.add(name);
    }
    for (const m of command.matchAll(READS)) {
      for (const word of m[1]!.trim().split(/\s+/)) if (WHOLE_NAME.test(word)) names.add(word);
    }
  }
  return names;
}

/**
 * The names the command that starts at `at` in `text` sets in the shell: its leading assignments
 * (`A=1 B=$A cmd`) and the names `export`, `local`, … after them declare. Only there is `x=` an
 * assignment: `echo epoch=$epoch` and `python t.py epoch=$epoch` (Hydra's overrides) pass it on.
 */
function setAtCommandStart(text: string, at: number): string[] {
  const names: string[] = [];
  const sticky = (re: RegExp) => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m) at = re.lastIndex;
    return m;
  };
  while (sticky(RESERVED));
  for (let m = sticky(ASSIGNMENT); m; m = sticky(ASSIGNMENT)) names.push(m[1]!);
  const declared = sticky(DECLARES)?.[1]!.trim().split(/\s+/) ?? [];
  for (const word of declared) {
    const name = DECLARED.exec(word)?.[1];
    if (name !== undefined) names.push(name);
  }
  return names;
}

/**
 * The `$name` and `${name}` of `text` that the shell expands: not in single quotes, not after a
 * backslash, not in a comment; `$$` is the shell's process id and `${{ }}` dstack's.
 */
function* shellReferences(text: string): Generator<{ name: string; braced: boolean }> {
  let single = false;
  let double = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (single) {
      if (c === "'") single = false;
    } else if (c === '\\') i++;
    else if (c === "'" && !double) single = true;
    else if (c === '"') double = !double;
    else if (c === '#' && !double && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end < 0) return;
      i = end;
    } else if (c === '$') {
      if (text[i + 1] === '$') {
        i++;
        continue;
      }
      REFERENCE.lastIndex = i;
      const m = REFERENCE.exec(text);
      if (m === null) continue;
      i += m[0].length - 1;
      if (m[1] !== undefined) yield { name: m[1], braced: true };
      else if (m[2] !== undefined) yield { name: m[2], braced: false };
    }
  }
}
