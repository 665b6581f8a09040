/**
 * A run's jobs as a graph, drawn in SVG: one box per job (workflow, status colour, id),
 * an arrow per dependency. A cached job is dashed and names the job it reuses; a
 * dependency from another run (a tag) is drawn grey. Clicking a box opens the job.
 */
import type { JobRecord } from '../../../src/core/records.js';
import { layoutDag, NODE } from '../lib/dag-layout.js';
import { navigate } from '../lib/router.js';
import { jobHref } from './link.js';

export function DagView({ jobs }: { jobs: readonly JobRecord[] }) {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const layout = layoutDag(jobs.map((j) => ({ id: j.id, deps: j.dependsOn })));
  return (
    <div class="dag">
      <svg
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label="the run's jobs and their dependencies"
      >
        <defs>
          {/* Every box has the same shape: one clip keeps the status stripe inside its rounded corners. */}
          <clipPath id="dag-box">
            <rect width={NODE.width} height={NODE.height} rx="8" />
          </clipPath>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <path key={`${e.from}-${e.to}`} d={e.path} class="dag-edge" marker-end="url(#arrow)" />
        ))}
        {layout.nodes.map((n) => {
          const job = byId.get(n.id);
          const status = job?.status.toLowerCase() ?? 'external';
          const open = () => navigate(jobHref(n.id));
          return (
            <g
              key={n.id}
              class={`dag-node node-${status}${job?.cachedFrom ? ' cached' : ''}`}
              data-job={n.id}
              transform={`translate(${n.x},${n.y})`}
              role="link"
              tabIndex={0}
              onClick={open}
              onKeyDown={(e) => e.key === 'Enter' && open()}
            >
              <title>
                {job ? `${job.workflow} (${job.id}): ${job.status}${job.reason ? ` — ${job.reason}` : ''}` : n.id}
              </title>
              <rect width={NODE.width} height={NODE.height} rx="8" />
              <rect class="dag-stripe" width="6" height={NODE.height} clip-path="url(#dag-box)" />
              <text x="16" y="22" class="dag-name">
                {job ? truncate(job.workflow, 20) : 'from another run'}
              </text>
              <Meta text={job ? `${job.status.toLowerCase()} · ${cachedLabel(job) ?? job.id}` : n.id} />
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** About the characters of .dag-meta (11px) that fit in a box beside its stripe. */
const META_CHARS = 28;

/**
 * A box's second line. A longer one (`submitted · cached ← 0123456789ab`) is drawn narrower to
 * fit rather than cut: it ran past the box, into the arrow beside it, and all of it says something.
 */
function Meta({ text }: { text: string }) {
  const squeeze = text.length > META_CHARS ? { textLength: NODE.width - 24, lengthAdjust: 'spacingAndGlyphs' } : {};
  return (
    <text x="16" y="42" class="dag-meta" {...squeeze}>
      {text}
    </text>
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a cached job reuses: another user's job is not named by its id (job-ref.tsx). */
function cachedLabel(job: JobRecord): string | undefined {
  if (!job.cachedFrom) return undefined;
  return `cached ← ${job.cachedFromAnotherUser ? "another user's job" : job.cachedFrom}`;
}
