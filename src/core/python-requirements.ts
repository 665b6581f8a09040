/**
 * The python provider's `requirements`: a requirements file of the project
 * (`requirements: requirements.txt`) or, as the reference calls it, "the list of Python packages
 * required by the script" (`requirements: [tqdm, numpy==1.26]`), each an argument of
 * `pip install`.
 */

export type Requirements = { file: string } | { packages: string[] };

/** A job's `requirements`, or undefined when it has none (no value, blanks, an empty list). */
export function requirementsOf(params: Readonly<Record<string, unknown>>): Requirements | undefined {
  const value = params['requirements'];
  if (typeof value === 'string') return value.trim() === '' ? undefined : { file: value.trim() };
  if (!Array.isArray(value)) return undefined;
  const packages = value.map((entry) => String(entry).trim()).filter((entry) => entry !== '');
  return packages.length === 0 ? undefined : { packages };
}

/** Names pip would take for a requirements file, not a package: `requirements.txt`, `deps/dev.in`. */
const FILE_NAME = /\.(txt|in)$/i;

/**
 * Why `entry` of a list of packages is not one, with what to write instead; undefined when it
 * is (`tqdm`, `numpy==1.26`, `torch>=2; sys_platform == "linux"`, `pkg @ https://…`).
 */
export function notAPackage(entry: string): string | undefined {
  if (entry.startsWith('-')) {
    return "is an option of pip's, not a package: put options in a requirements file, or in pip's environment (PIP_INDEX_URL)";
  }
  if (FILE_NAME.test(entry)) return `names a file: a requirements file is written 'requirements: ${entry}'`;
  return undefined;
}

/** How logs name them: the file, or the packages. */
export function requirementsLabel(requirements: Requirements): string {
  return 'file' in requirements ? requirements.file : `the packages ${requirements.packages.join(', ')}`;
}
