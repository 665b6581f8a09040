/** What the pieces that build one WorkflowConfig share: where it is, and how to report. */
import { ConfigError, formatLocation, type SourceLocation } from '../core/errors.js';
import type { IssueContext } from './issues.js';
import { LazyLocation, lazyLocations, type SourceHandle } from './source-handle.js';
import { locateKey, type Path, type YamlSource } from './yaml-source.js';

export class WorkflowContext implements IssueContext {
  /** Recorded fields and their paths relative to the item; null: the path is the dotted field itself. */
  private readonly fields = new Map<string, Path | null>();
  /** Where each recorded field was written, located only when read (see source-handle.ts). */
  readonly locations: Record<string, SourceLocation>;

  constructor(
    readonly source: SourceHandle,
    /** Path of the item from the document root: `['workflows', 2]`. */
    readonly base: Path,
    /** How messages name the workflow: `'train'`, or `#3` while its name is unknown or invalid. */
    public label: string,
    readonly warnings: string[],
  ) {
    this.locations = lazyLocations(source, base, this.fields);
  }

  /** The full parse, for error messages (made on first use). */
  get src(): YamlSource {
    return this.source.src;
  }

  subject(path: Path): string {
    return path.length === 0 ? `workflow ${this.label}` : `'${path.join('.')}' of workflow ${this.label}`;
  }

  /** Where the value at `path` (relative to the item) was written. */
  at(path: Path): SourceLocation {
    return this.source.at([...this.base, ...path]);
  }

  /** Where the key of the entry at `path` was written (a bad name, rather than its value). */
  atKey(path: Path): SourceLocation {
    return locateKey(this.src, [...this.base, ...path]);
  }

  /** The same, located only when its line or column is read. */
  lazyAt(path: Path): SourceLocation {
    return new LazyLocation(this.source, [...this.base, ...path]);
  }

  /** Remember where `field` (a dotted path, as the planner asks for it) was written. */
  record(field: string, path?: Path): void {
    this.fields.set(field, path ?? null);
  }

  fail(detail: string, path: Path, field = path.join('.')): never {
    throw new ConfigError(detail, this.at(path), field || undefined);
  }

  warn(detail: string, path: Path): void {
    this.warnings.push(`${formatLocation(this.at(path))}: ${detail}`);
  }
}
