/** What a scenario measures and reports: rows of timings per peer, and targets checked against them. */
import { errorMessage, median } from './util.js';

/** dstack is what is measured; a floor is the least the work could cost; a peer is another tool; info is context. */
export type Role = 'dstack' | 'floor' | 'peer' | 'info';

export interface Row {
  peer: string;
  role: Role;
  /** Seconds, one per repetition; empty when not run. */
  samples: number[];
  /** Why this row has no samples: said in the table, never left out. */
  notRun?: string;
  /** More columns, such as peak memory or throughput, by column name. */
  extra?: Record<string, string>;
}

/** One table: the rows' ratios are to its dstack row. */
export interface Table {
  caption: string;
  rows: Row[];
}

export type Verdict = 'PASS' | 'MISS' | 'NOT RUN';

export interface Target {
  text: string;
  verdict: Verdict;
  /** The numbers behind the verdict. */
  detail: string;
}

export interface ScenarioResult {
  id: number;
  title: string;
  /** The size actually run, such as "1,000 jobs" or "100 MiB / 1,000 files (--quick)". */
  size: string;
  tables: Table[];
  targets: Target[];
  notes: string[];
  /** Load average (1 min) before and after: other work on the machine shows here. */
  load?: [number, number];
  seconds?: number;
  /** When it ran (ISO): with --only, the other scenarios are kept from an earlier run. */
  ranAt?: string;
}

export interface Context {
  quick: boolean;
  /** Repetitions asked for with --reps, overriding each scenario's own. */
  reps?: number;
  /** Slots of the local runner (it reserves 1 CPU per job on a machine of this many). */
  slots: number;
  log: (line: string) => void;
}

export interface Scenario {
  id: number;
  title: string;
  run(ctx: Context): Promise<ScenarioResult>;
}

export function row(peer: string, role: Role, samples: number[], extra?: Record<string, string>): Row {
  return extra ? { peer, role, samples, extra } : { peer, role, samples };
}

export function notRun(peer: string, role: Role, why: string): Row {
  return { peer, role, samples: [], notRun: why };
}

/** A row from `measure`'s samples (and extra columns); when it throws, a row that says why it did not run. */
export async function measureRow(
  peer: string,
  role: Role,
  measure: () => Promise<number[] | { samples: number[]; extra: Record<string, string> }>,
): Promise<Row> {
  try {
    const m = await measure();
    return Array.isArray(m) ? row(peer, role, m) : row(peer, role, m.samples, m.extra);
  } catch (e) {
    return notRun(peer, role, `failed: ${errorMessage(e)}`);
  }
}

/** One peer's measurement, for `interleave`. */
export interface Measure {
  peer: string;
  role: Role;
  /** Once, untimed, before the first repetition (a warm-up, writing its files). */
  setup?: () => Promise<void>;
  /** Untimed, before each repetition (deleting outputs). */
  before?: () => Promise<void>;
  /** One timed repetition: its seconds. */
  run: () => Promise<number>;
  /** Extra columns, computed after the last repetition. */
  extra?: () => Record<string, string>;
}

/**
 * Runs every measure `reps` times, round-robin (rep 1 of each, then rep 2 of each, ...), so
 * that a change in the machine's load lands on all peers alike. A measure that throws stops
 * there and its row says why.
 */
export async function interleave(reps: number, measures: Measure[], log?: (line: string) => void): Promise<Row[]> {
  const samples = measures.map(() => [] as number[]);
  const failed = measures.map(() => undefined as string | undefined);
  const attempt = async (i: number, what: (m: Measure) => Promise<void>) => {
    if (failed[i] !== undefined) return;
    try {
      await what(measures[i]!);
    } catch (e) {
      failed[i] = errorMessage(e);
      log?.(`${measures[i]!.peer}: failed: ${failed[i]}`);
    }
  };
  for (let i = 0; i < measures.length; i++) await attempt(i, async (m) => m.setup?.());
  for (let rep = 0; rep < reps; rep++) {
    if (reps > 1 && log) log(`repetition ${rep + 1}/${reps}`);
    for (let i = 0; i < measures.length; i++) {
      await attempt(i, async (m) => {
        await m.before?.();
        samples[i]!.push(await m.run());
      });
    }
  }
  return measures.map((m, i) => {
    const why = failed[i];
    if (why !== undefined) return notRun(m.peer, m.role, `failed: ${why}`);
    return m.extra ? row(m.peer, m.role, samples[i]!, m.extra()) : row(m.peer, m.role, samples[i]!);
  });
}

/** Median seconds of a row, undefined when it did not run. */
export function med(r: Row | undefined): number | undefined {
  return r && r.samples.length > 0 ? median(r.samples) : undefined;
}

/** A target over measured values: NOT RUN when any is missing, otherwise PASS when `check` holds. */
export function target(
  text: string,
  values: (number | undefined)[],
  check: (...v: number[]) => boolean,
  detail: (...v: number[]) => string,
): Target {
  if (values.some((v) => v === undefined || !Number.isFinite(v))) {
    return { text, verdict: 'NOT RUN', detail: 'a measurement it needs did not run' };
  }
  const v = values as number[];
  return { text, verdict: check(...v) ? 'PASS' : 'MISS', detail: detail(...v) };
}

export function fmtS(s: number): string {
  const size = Math.abs(s); // a difference may be negative
  if (size >= 10) return `${s.toFixed(1)} s`;
  if (size >= 1) return `${s.toFixed(2)} s`;
  return size >= 0.01 ? `${(s * 1000).toFixed(0)} ms` : `${(s * 1000).toFixed(1)} ms`;
}
export function fmtX(x: number): string {
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}
