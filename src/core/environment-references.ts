/**
 * `environment:` values may name the job's own environment (`PATH: /opt/conda/bin:$PATH`,
 * `LD_LIBRARY_PATH: /usr/local/cuda/lib64:${LD_LIBRARY_PATH}`), as they would in a shell.
 * `$NAME` and `${NAME}` are references, `$$` is a `$`, any other `$` is itself. dstack's own
 * variables were replaced when the run was planned; what is left names the environment the
 * job starts in: the runner's on its host, the image's in a container.
 */
type Part = { text: string } | { ref: string };

const TOKEN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/;

/** Whether `value` has a reference or a `$$`: whether it is more than its text. */
export function hasReferences(value: string): boolean {
  return TOKEN.test(value);
}

function parts(value: string): Part[] {
  const out: Part[] = [];
  let text = '';
  let last = 0;
  for (const m of value.matchAll(new RegExp(TOKEN, 'g'))) {
    text += value.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === '$$') {
      text += '$';
      continue;
    }
    if (text) out.push({ text });
    text = '';
    out.push({ ref: (m[1] ?? m[2])! });
  }
  text += value.slice(last);
  if (text) out.push({ text });
  return out;
}

/** `value` with its references replaced from `env` (an unset name is empty, as in a shell). */
export function expandReferences(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return parts(value)
    .map((p) => ('ref' in p ? (env[p.ref] ?? '') : p.text))
    .join('');
}

/** A shell line exporting `name` as `value`, its references expanded by that shell, nothing else. */
export function exportLine(name: string, value: string): string {
  const quoted = parts(value).map((p) => ('ref' in p ? `"\${${p.ref}}"` : `'${p.text.replace(/'/g, `'\\''`)}'`));
  return `export ${name}=${quoted.join('') || "''"}`;
}
