/**
 * A YAML file whose full parse (yaml-source.ts: nodes that know their positions) happens
 * only when a location is really read: an error, a warning, or the planner pointing at a
 * field. The happy path of a large file then costs js-yaml's read alone (fast-yaml.ts).
 *
 * A project keeps a location object per workflow and a field table per workflow, so both
 * are kept small: no closures per object, the handle and path in private fields.
 */
import type { SourceLocation } from '../core/errors.js';
import { locate, parseYaml, type Path, type YamlSource } from './yaml-source.js';

export class SourceHandle {
  private parsed: YamlSource | undefined;

  constructor(
    private readonly text: string,
    /** Project-relative file name used in locations. */
    readonly file: string,
    parsed?: YamlSource,
  ) {
    this.parsed = parsed;
  }

  /** The full parse, made on first use. Throws the ConfigError of a syntax error. */
  get src(): YamlSource {
    this.parsed ??= parseYaml(this.text, this.file);
    return this.parsed;
  }

  /** Where `path` (from the document root) was written; see yaml-source.ts's locate. */
  at(path: Path): SourceLocation {
    return locate(this.src, path);
  }
}

/**
 * The location of a path, found when its line or column is first read. `file`, `line` and
 * `column` are its own enumerable properties, as a plain SourceLocation's are (tests compare
 * them with toEqual, JSON shows them).
 */
export class LazyLocation implements SourceLocation {
  readonly file: string;
  declare readonly line: number | undefined;
  declare readonly column: number | undefined;
  readonly #handle: SourceHandle;
  readonly #path: Path;
  #found: SourceLocation | undefined;

  constructor(handle: SourceHandle, path: Path) {
    this.file = handle.file;
    this.#handle = handle;
    this.#path = path;
    Object.defineProperties(this, LINE_AND_COLUMN);
  }

  found(): SourceLocation {
    this.#found ??= this.#handle.at(this.#path);
    return this.#found;
  }
}

/** Shared accessors (one pair for every LazyLocation, not two closures each). */
const LINE_AND_COLUMN: PropertyDescriptorMap = {
  line: {
    enumerable: true,
    get(this: LazyLocation) {
      return this.found().line;
    },
  },
  column: {
    enumerable: true,
    get(this: LazyLocation) {
      return this.found().column;
    },
  },
};

/** What a workflow's field table holds: fields recorded with their paths relative to `base`. */
interface FieldTable {
  handle: SourceHandle;
  base: Path;
  /** Field → its path under `base`; null when the path is the dotted field itself. */
  fields: Map<string, Path | null>;
  cache: Map<string, SourceLocation> | undefined;
}

function locateField(table: FieldTable, field: string): SourceLocation | undefined {
  const path = table.fields.get(field);
  if (path === undefined) return undefined;
  table.cache ??= new Map();
  let location = table.cache.get(field);
  if (location === undefined) {
    // Lazy: the planner reads a field's location to have it at hand for an error it may throw.
    const relative = path ?? field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    location = new LazyLocation(table.handle, [...table.base, ...relative]);
    table.cache.set(field, location);
  }
  return location;
}

const FIELD_TABLE: ProxyHandler<FieldTable> = {
  get: (table, field) => (typeof field === 'string' ? locateField(table, field) : undefined),
  has: (table, field) => typeof field === 'string' && table.fields.has(field),
  ownKeys: (table) => [...table.fields.keys()],
  getOwnPropertyDescriptor: (table, field) =>
    typeof field === 'string' && table.fields.has(field)
      ? { value: locateField(table, field), enumerable: true, configurable: true, writable: false }
      : undefined,
};

/**
 * `WorkflowConfig.locations`: field → location, each located when it is first read. Only
 * the keys of `fields` exist; reading another field gives undefined.
 */
export function lazyLocations(
  handle: SourceHandle,
  base: Path,
  fields: Map<string, Path | null>,
): Record<string, SourceLocation> {
  const table: FieldTable = { handle, base, fields, cache: undefined };
  return new Proxy(table, FIELD_TABLE) as unknown as Record<string, SourceLocation>;
}
