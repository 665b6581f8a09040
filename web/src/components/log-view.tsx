/**
 * A job's log, following live: coloured as the terminal showed it, searchable, and
 * scrolled to the newest line while the reader stays at the bottom. Only the last lines are
 * loaded (use-log-stream.ts); earlier ones on request.
 */
import { Component } from 'preact';
import { plural } from '../../../src/core/resources.js';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { clockTime } from '../lib/format.js';
import { cutSegments } from '../lib/log-rows.js';
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
  /** The rows shown whole, by key: a long line shows its first PREVIEW characters until asked. */
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const toggle = (key: string) =>
    setExpanded((now) => {
      const next = new Set(now);
      if (!next.delete(key)) next.add(key);
      return next;
    });
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
          <LogLineView key={row.key} row={row} query={q} expanded={expanded.has(row.key)} onToggle={toggle} />
        ))}
      </div>
    </section>
  );
}

/**
 * Characters of a line shown before "show all": a 200 KB line (a dumped tensor, a JSON blob) is
 * one row, and shown whole it would be a thousand wrapped lines of screen, and as many to draw
 * on every render of a long log.
 */
export const PREVIEW = 2000;

interface LineProps {
  row: LogRow;
  query: string;
  expanded: boolean;
  onToggle: (key: string) => void;
}

/** One line; rendered again only when its search changes, it is expanded, or its row does (an unfinished line grew). */
class LogLineView extends Component<LineProps> {
  override shouldComponentUpdate(next: LineProps): boolean {
    return next.row !== this.props.row || next.query !== this.props.query || next.expanded !== this.props.expanded;
  }

  override render({ row, query, expanded, onToggle }: LineProps) {
    const width = row.search.length;
    const cut = width > PREVIEW && !expanded;
    const segments = cut ? cutSegments(row.segments, PREVIEW) : row.segments;
    return (
      <div class={`log-line ${row.line.stream}`} data-seq={row.line.seq}>
        <span class="log-ts">{clockTime(row.line.ts)}</span>
        <span class="log-text">
          {markMatches(segments, query).map((s, i) =>
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
          {width > PREVIEW && (
            <button class="linklike log-more" onClick={() => onToggle(row.key)}>
              {cut ? moreLabel(row, query) : 'show less'}
            </button>
          )}
          {expanded && row.dropped > 0 && (
            <span class="log-dropped">
              … {row.dropped.toLocaleString('en-US')} more characters not shown here: Download log has the whole line
            </span>
          )}
        </span>
      </div>
    );
  }
}

/** `… show all 200,001 characters (2 matches further on)`. */
function moreLabel(row: LogRow, query: string): string {
  const total = (row.search.length + row.dropped).toLocaleString('en-US');
  let further = 0;
  if (query) {
    // Matches that end past the preview: those the cut line does not show.
    for (
      let at = row.search.indexOf(query, PREVIEW - query.length + 1);
      at >= 0;
      at = row.search.indexOf(query, at + query.length)
    )
      further++;
  }
  const matches = further === 0 ? '' : ` (${further} ${further === 1 ? 'match' : 'matches'} further on)`;
  return `… show all ${total} characters${matches}`;
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
