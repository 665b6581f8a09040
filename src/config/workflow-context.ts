/** What the pieces that build one WorkflowConfig share: where it is, and how to report. */
import { ConfigError, formatLocation, type SourceLocation } from '../core/errors.js';
import type { IssueContext } from './issues.js';
import { locate, type Path, type YamlSource } from './yaml-source.js';

export class WorkflowContext implements IssueContext {
  readonly locations: Record<string, SourceLocation> = {};

  constructor(
    readonly src: YamlSource,
    /** Path of the item from the document root: `['workflows', 2]`. */
    readonly base: Path,
    /** How messages name the workflow: `'train'`, or `#3` while its name is unknown or invalid. */
    public label: string,
    readonly warnings: string[],
  ) {}

  subject(path: Path): string {
    return path.length === 0 ? `workflow ${this.label}` : `'${path.join('.')}' of workflow ${this.label}`;
  }

  /** Where the value at `path` (relative to the item) was written. */
  at(path: Path): SourceLocation {
    return locate(this.src, [...this.base, ...path]);
  }

  /** Remember where `field` (a dotted path, as the planner asks for it) was written. */
  record(field: string, path: Path = field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s))): void {
    this.locations[field] = this.at(path);
  }

  fail(detail: string, path: Path, field = path.join('.')): never {
    throw new ConfigError(detail, this.at(path), field || undefined);
  }

  warn(detail: string, path: Path): void {
    this.warnings.push(`${formatLocation(this.at(path))}: ${detail}`);
  }
}
