/** Marking search matches inside styled log segments without losing their colours. Pure. */
import type { AnsiStyle, Segment } from './ansi.js';

export interface MarkedSegment {
  text: string;
  style: AnsiStyle;
  mark: boolean;
}

/** Split `segments` where case-insensitive matches of `query` start and end. */
export function markMatches(segments: readonly Segment[], query: string): MarkedSegment[] {
  if (!query) return segments.map((s) => ({ ...s, mark: false }));
  const plain = segments
    .map((s) => s.text)
    .join('')
    .toLowerCase();
  const needle = query.toLowerCase();
  const ranges: [number, number][] = [];
  for (let at = plain.indexOf(needle); at >= 0; at = plain.indexOf(needle, at + needle.length)) {
    ranges.push([at, at + needle.length]);
  }
  const out: MarkedSegment[] = [];
  let pos = 0;
  for (const seg of segments) {
    const start = pos;
    const end = pos + seg.text.length;
    // Cut points inside this segment: every range boundary that falls within it.
    const cuts = new Set([start, end]);
    for (const [a, b] of ranges) {
      if (a > start && a < end) cuts.add(a);
      if (b > start && b < end) cuts.add(b);
    }
    const points = [...cuts].sort((x, y) => x - y);
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i]!;
      const b = points[i + 1]!;
      const mark = ranges.some(([ra, rb]) => a >= ra && b <= rb);
      out.push({ text: seg.text.slice(a - start, b - start), style: seg.style, mark });
    }
    pos = end;
  }
  return out;
}
