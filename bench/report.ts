/** bench/RESULTS.md and the JSON beside it: the machine, then a table and the targets per scenario. */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { fmtS, fmtX, med, type ScenarioResult, type Table } from './model.js';
import { REPO, sh } from './util.js';

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  os: string;
  kernel: string;
  loadAtStart: number[];
  /** Where the scenarios' temp folders (projects, DSTACK_HOMEs, outputs) live: see `scratch()`. */
  scratch?: string;
}

export interface Report {
  mode: 'full' | 'quick';
  command: string;
  startedAt: string;
  seconds: number;
  commit: string;
  machine: Machine;
  /** Version of each peer tool, or why it is missing. */
  peers: Record<string, string>;
  scenarios: ScenarioResult[];
}

export async function machine(): Promise<Machine> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return {
    nproc: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: /^PRETTY_NAME="?([^"\n]*)/m.exec(osRelease)?.[1] ?? 'unknown',
    kernel: release(),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    scratch: await scratch(),
  };
}

/**
 * The temp folders' file system, and for ext4 whether it has a journal: without one, each
 * file created within a minute or more of a large deletion steps past every inode just freed
 * in its block group, so the file-heavy scenarios (2, 5) read slower and far more spread
 * (PROFILES.md, sessions 8 and 23). `bench/scratch.sh` makes a journaled one.
 */
async function scratch(): Promise<string> {
  const dir = tmpdir();
  const df = await sh(`df --output=source,fstype ${dir} | tail -n 1`, { stdout: 'capture', allowFailure: true });
  const [source = '?', fstype = '?'] = df.stdout.trim().split(/\s+/);
  // A mounted ext4 with a journal has a jbd2 entry named after its device (`loop0-8`).
  const journal = fstype === 'ext4' ? (hasJournal(source) ? ', with a journal' : ', without a journal') : '';
  return `${dir} on ${source} (${fstype}${journal})`;
}

function hasJournal(device: string): boolean {
  const entries = existsSync('/proc/fs/jbd2') ? readdirSync('/proc/fs/jbd2') : [];
  return entries.some((e) => e.startsWith(`${basename(device)}-`));
}

export async function commit(): Promise<string> {
  const head = await sh('git rev-parse --short HEAD', { cwd: REPO, stdout: 'capture', allowFailure: true });
  const dirty = await sh('git status --porcelain -- src | head -n 1', {
    cwd: REPO,
    stdout: 'capture',
    allowFailure: true,
  });
  return head.code === 0
    ? `${head.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes in src/' : ''}`
    : 'unknown';
}

/** The first line of `TOOL --version`, or why there is none. */
export async function versions(tools: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, command] of Object.entries(tools)) {
    const r = await sh(`${command} 2>&1`, { stdout: 'capture', allowFailure: true });
    out[name] =
      r.code === 0 ? (r.stdout.trim().split('\n')[0] ?? '') : `missing (${r.stdout.trim().split('\n')[0] ?? ''})`;
  }
  return out;
}

function tableMarkdown(table: Table): string[] {
  const base = med(table.rows.find((r) => r.role === 'dstack'));
  const extras = [...new Set(table.rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const head = ['peer', 'role', 'median', 'spread (min – max)', 'n', 'ratio to dstack', ...extras];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];
  for (const r of table.rows) {
    const m = med(r);
    const cells =
      m === undefined
        ? [`not run: ${r.notRun ?? 'no samples'}`, '—', '0', '—']
        : [
            fmtS(m),
            `${fmtS(Math.min(...r.samples))} – ${fmtS(Math.max(...r.samples))}`,
            String(r.samples.length),
            base === undefined ? '—' : fmtX(m / base),
          ];
    lines.push(`| ${[r.peer, r.role, ...cells, ...extras.map((e) => r.extra?.[e] ?? '')].join(' | ')} |`);
  }
  return lines;
}

export function markdown(report: Report): string {
  const m = report.machine;
  const out = [
    '# dstack benchmarks',
    '',
    `Written by \`${report.command}\` (${report.mode} run) on ${report.startedAt}, in ${fmtS(report.seconds)}; dstack at ${report.commit}.`,
    'Each scenario runs dstack and its peers in the same run, one after another; times are wall-clock medians.',
    '"ratio to dstack" is the row\'s median divided by dstack\'s (below 1: faster than dstack).',
    '',
    '## Machine',
    '',
    `- nproc: ${m.nproc}; memory: ${m.memoryGiB} GiB; CPU: ${m.cpuModel}`,
    `- node ${m.node}; ${m.os}; kernel ${m.kernel}; load average at start (1, 5, 15 min): ${m.loadAtStart.join(', ')}`,
    ...(m.scratch ? [`- temp folders (projects, DSTACK_HOME, outputs): ${m.scratch}`] : []),
    ...Object.entries(report.peers).map(([name, v]) => `- ${name}: ${v}`),
    '',
    '## Targets',
    '',
    '| scenario | target | verdict | numbers |',
    '| --- | --- | --- | --- |',
    ...report.scenarios.flatMap((s) => s.targets.map((t) => `| ${s.id} | ${t.text} | ${t.verdict} | ${t.detail} |`)),
    '',
  ];
  for (const s of report.scenarios) {
    out.push(`## ${s.id}. ${s.title}`, '', `Size: ${s.size}.${s.ranAt ? ` Ran at ${s.ranAt}.` : ''}`);
    if (s.load) out.push(`Load average (1 min) before → after: ${s.load[0].toFixed(2)} → ${s.load[1].toFixed(2)}.`);
    out.push('');
    for (const t of s.tables) {
      if (s.tables.length > 1) out.push(`**${t.caption}**`, '');
      out.push(...tableMarkdown(t), '');
    }
    for (const t of s.targets) out.push(`- ${t.verdict}: ${t.text} (${t.detail})`);
    for (const n of s.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}

/** Write bench/RESULTS.md and bench/results/<mode>.json; returns their paths. */
export async function writeReport(report: Report): Promise<string[]> {
  const md = join(REPO, 'bench', 'RESULTS.md');
  const json = join(REPO, 'bench', 'results', `${report.mode}.json`);
  await mkdir(join(REPO, 'bench', 'results'), { recursive: true });
  await writeFile(md, markdown(report));
  // Formatted as prettier would, so `npm run format:check` stays clean.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(json)) ?? {};
  await writeFile(json, await prettier.format(JSON.stringify(report), { ...options, parser: 'json', filepath: json }));
  return [md, json];
}
