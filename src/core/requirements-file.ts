/**
 * What a pip requirements file, or pip's settings in the environment (`PIP_FIND_LINKS`), name
 * beyond their own text. A cached virtualenv is keyed by that text, so one that installs other
 * files (a path of the project, another requirements file, a local wheel folder) or reads the
 * environment (`${VAR}`) would be served stale: its text stays the same while what it installs
 * changes. Such a virtualenv is not cached (python-job.ts).
 */
import { fileURLToPath } from 'node:url';

/** Archive names pip takes for a path (`pkg-1.0.whl`, `pkg.tar.gz`), with no slash in them. */
const ARCHIVE = /\.(whl|zip|tar|tgz|tar\.gz|tbz|tar\.bz2|txz|tar\.xz)$/i;
/** A URL's scheme (`https:`, `git+https:`, `file:`). */
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** `-r`/`-c`/`-e` and their long forms: another file, a constraints file, an editable install. */
const NAMES_A_FILE = /^(-[rce]|--(requirement|constraint|editable)(\s|=|$))/;
/** Options that name where packages come from: a local folder is a path of the runner's. */
const LOCATION = /^(?:-[fi]|--(?:find-links|index-url|extra-index-url)(?=\s|=))[\s=]*(\S*)/;
/** `name @ url` (PEP 508): the url decides. */
const DIRECT = /^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@\s*(\S+)/;

/** Whether `url` is a URL of another machine: a scheme with `//`, not `file:` (nor `git+file:`). */
function remote(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/(^|\+)file:/i.test(url);
}

function namesLocal(line: string): boolean {
  if (/\$\{[A-Za-z0-9_]+\}/.test(line)) return true; // pip substitutes environment variables
  if (NAMES_A_FILE.test(line)) return true;
  const location = LOCATION.exec(line);
  if (location) return location[1] !== '' && !remote(location[1]!);
  if (line.startsWith('-')) return false; // any other option (--hash, --pre, --no-index, …)
  const direct = DIRECT.exec(line);
  if (direct) return !remote(direct[1]!);
  const first = line.split(/[\s;]/)[0]!;
  if (SCHEME.test(first)) return !remote(first);
  return /[/\\]/.test(first) || first.startsWith('.') || first.startsWith('~') || ARCHIVE.test(first);
}

/**
 * The first line of a requirements file that names something beyond its text (`./pkg`, `-e .`,
 * `-r base.txt`, `file:…`, `pkg.whl`, `--find-links wheels`, `${TOKEN}`), as written;
 * undefined when every line names only packages of an index or remote URLs.
 */
export function localReference(text: string): string | undefined {
  // Continuation lines (a trailing backslash) are one line to pip.
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim(); // a comment: `#` first or after blanks
    if (line !== '' && namesLocal(line)) return line;
  }
  return undefined;
}

/** pip's settings that name files to read (constraints, requirements, editable projects): local whatever their value. */
const PIP_FILE_SETTINGS = new Set(['constraint', 'requirement', 'editable']);
/** pip's settings that name where packages come from: local unless a remote URL. */
const PIP_LOCATION_SETTINGS = new Set(['find-links', 'index-url', 'extra-index-url']);
/** pip's documented way to read no config file: nothing there can change. */
const NO_CONFIG_FILE = '/dev/null';

export interface LocalPipSetting {
  /** The variable, as the environment names it (`PIP_FIND_LINKS`). */
  name: string;
  /** What of its value is local: an entry of its list (`/opt/wheels`), or the config file. */
  local: string;
}

/** A list's entries, separated by blanks, as pip splits them. */
const entriesOf = (value: string) => value.split(/\s+/).filter((entry) => entry !== '');

/**
 * What of the value of pip's option (`find-links`) names something local whose text does not
 * say what it holds, if anything. A folder of `find-links` is not such a thing: its listing does
 * (wheelFolders).
 */
function localPart(option: string, value: string): string | undefined {
  if (option === 'config-file') return value === '' || value === NO_CONFIG_FILE ? undefined : value;
  const entries = entriesOf(value);
  if (PIP_FILE_SETTINGS.has(option)) return entries[0];
  if (option === 'find-links') return entries.find((entry) => !remote(entry) && folderPath(entry) === undefined);
  if (PIP_LOCATION_SETTINGS.has(option)) return entries.find((entry) => !remote(entry));
  return undefined;
}

/** The path of a local `find-links` entry: as written, or a `file:///…` URL's; undefined for any other URL. */
function folderPath(entry: string): string | undefined {
  if (!SCHEME.test(entry)) return entry;
  if (!/^file:\/\/\//i.test(entry)) return undefined;
  try {
    return fileURLToPath(entry);
  } catch {
    return undefined; // `file:///%zz`, `%2F` in a name: no folder it can list
  }
}

/** pip's settings in `env` by pip's own name for each (it lower-cases the rest and reads `_` as `-`: `find-links`). */
function pipOptions(env: Readonly<Record<string, string>>): [name: string, option: string, value: string][] {
  return Object.keys(env)
    .sort()
    .filter((name) => name.startsWith('PIP_'))
    .map((name) => [name, name.slice(4).toLowerCase().replace(/_/g, '-'), env[name]!]);
}

/**
 * The first of pip's settings in `env` (by name) that names something local
 * (`PIP_INDEX_URL=file:///srv/simple`, any `PIP_CONSTRAINT` or `PIP_CONFIG_FILE`); undefined
 * when they name only remote URLs, folders of wheels, or nothing (`PIP_NO_INDEX=1`).
 */
export function localPipSetting(env: Readonly<Record<string, string>>): LocalPipSetting | undefined {
  for (const [name, option, value] of pipOptions(env)) {
    const local = localPart(option, value);
    if (local !== undefined) return { name, local };
  }
  return undefined;
}

/**
 * The local folders that `find-links` names (`PIP_FIND_LINKS=/opt/wheels`, `wheels`,
 * `file:///opt/wheels`), as paths: pip takes what it installs from the files in them, so their
 * listing, not their name, belongs in a cached virtualenv's key.
 */
export function wheelFolders(env: Readonly<Record<string, string>>): string[] {
  const folders: string[] = [];
  for (const [, option, value] of pipOptions(env)) {
    if (option !== 'find-links') continue;
    for (const entry of entriesOf(value)) {
      const path = remote(entry) ? undefined : folderPath(entry);
      if (path !== undefined) folders.push(path);
    }
  }
  return folders;
}
