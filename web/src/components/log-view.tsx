/**
 * A job's log, following live: coloured as the terminal showed it, searchable, and
 * scrolled to the newest line while the reader stays at the bottom. Only the last lines are
 * loaded (use-log-stream.ts); earlier ones on request.
 */
import { Component } from 'preact';
import { plural } from '../../../src/core/resources.js';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { clockTime } from '../lib/format.js';
import { markMatches } from '../lib/log-search.js';
import type { AnsiStyle } from '../lib/ansi.js';
import { useLogStream, type JobWatch, type LogRow, type StreamState } from '../lib/use-log-stream.js';

const STATE_LABEL: Record<StreamState, string> = {
  connecting: 'connecting…',
  live: 'following live',
  reconnecting: 'connection lost, reconnecting…',
  ended: 'finished',
  failed: 'not available',
};
/** A job that ended with its runner: the log is read again now and then (use-log-stream.ts). */
const LATE_LINES_LABEL = 'finished · showing lines its runner still sends';

/**
 * `job`: what the page knows of the job: whether it has ended (its log is read to the end, not
 * followed), and when it goes on after its stream ended (resumed; its runner back with lines).
 * `onJobsChange`: the stream saw a job's status change (the page reloads it at once, not at its next poll).
 */
export function LogView({ target, job, onJobsChange }: { target: string; job: JobWatch; onJobsChange?: () => void }) {
  const stream = useLogStream(target, job);
  const finished = !job.live;
  useEffect(() => {
    if (stream.jobs) onJobsChange?.();
  }, [stream.jobs]);
  const [query, setQuery] = useState('');
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  /** The log's height when earlier lines were asked for: the reader stays on the line they were at. */
  const heightBefore = useRef<number | undefined>(undefined);

  // Not trimmed: 'epoch 1 ' (with its space) must not match 'epoch 10'.
  const q = query.trim() ? query.toLowerCase() : '';
  const shown = q ? stream.rows.filter((r) => r.search.includes(q)) : stream.rows;
  const loaded = stream.hasEarlier ? `the last ${stream.count} lines` : plural(stream.count, 'line');
  // A finished job's log is only being read: it is live only while the job goes on.
  const label =
    stream.state === 'live' && finished
      ? 'loading…'
      : stream.state === 'ended' && job.lateLines
        ? LATE_LINES_LABEL
        : STATE_LABEL[stream.state];

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (heightBefore.current !== undefined && !stream.loadingEarlier) {
      el.scrollTop += el.scrollHeight - heightBefore.current;
      heightBefore.current = undefined;
    } else if (follow) el.scrollTop = el.scrollHeight;
  });

  return (
    <section class="log-view">
      <div class="log-toolbar">
        <input
          type="search"
          placeholder="Search the log"
          value={query}
          aria-label="search the log"
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <span class="muted log-count">{q ? `${shown.length} of ${loaded}` : loaded}</span>
        <label class="follow">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} />
          follow
        </label>
        <span class={`stream-state state-${stream.state}`}>{label}</span>
      </div>
      {stream.error && <p class="error">{stream.error}</p>}
      <div
        class="log"
        ref={box}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLDivElement;
          // Scrolling up to read stops following; back at the bottom, it follows again.
          setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
        }}
      >
        {stream.hasEarlier && (
          <button
            class="log-earlier"
            disabled={stream.loadingEarlier}
            onClick={() => {
              heightBefore.current = box.current?.scrollHeight;
              setFollow(false);
              stream.loadEarlier();
            }}
          >
            {stream.loadingEarlier ? 'loading earlier lines…' : 'Show earlier lines'}
          </button>
        )}
        {shown.length === 0 && (
          <div class="log-empty">{stream.state === 'ended' ? 'The log is empty.' : 'No output yet.'}</div>
        )}
        {shown.map((row) => (
          <LogLineView key={row.key} row={row} query={q} />
        ))}
      </div>
    </section>
  );
}

interface LineProps {
  row: LogRow;
  query: string;
}

/** One line; rendered again only when its search changes or its row does (an unfinished line grew). */
class LogLineView extends Component<LineProps> {
  override shouldComponentUpdate(next: LineProps): boolean {
    return next.row !== this.props.row || next.query !== this.props.query;
  }

  override render({ row, query }: LineProps) {
    return (
      <div class={`log-line ${row.line.stream}`} data-seq={row.line.seq}>
        <span class="log-ts">{clockTime(row.line.ts)}</span>
        <span class="log-text">
          {markMatches(row.segments, query).map((s, i) =>
            s.mark ? (
              <mark key={i} style={css(s.style)}>
                {s.text}
              </mark>
            ) : (
              <span key={i} style={css(s.style)}>
                {s.text}
              </span>
            ),
          )}
        </span>
      </div>
    );
  }
}

function css(style: AnsiStyle): Record<string, string> | undefined {
  if (Object.keys(style).length === 0) return undefined;
  const fg = style.inverse ? (style.bg ?? 'var(--log-bg)') : style.fg;
  const bg = style.inverse ? (style.fg ?? 'var(--log-fg)') : style.bg;
  const out: Record<string, string> = {};
  if (fg) out.color = fg;
  if (bg) out.background = bg;
  if (style.bold) out.fontWeight = 'bold';
  if (style.dim) out.opacity = '0.7';
  if (style.italic) out.fontStyle = 'italic';
  if (style.underline) out.textDecoration = 'underline';
  return out;
}
