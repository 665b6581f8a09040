/**
 * A job's artifacts as a folder tree with sizes; a file downloads on click. The blob is
 * fetched with the Authorization header (a plain link could not carry it) and handed to
 * the browser under the file's name once it has all arrived: until then its line shows how
 * much has (of the size the manifest gives), and its button is disabled, so a second click
 * does not start a second download. "Download all" saves every file in one tar archive.
 */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { artifactTree, type TreeNode } from '../lib/artifact-tree.js';
import { formatSize } from '../lib/format.js';
import { usePoll } from '../lib/use-poll.js';
import { DownloadButton } from './download-button.js';
import { ErrorBox } from './error-box.js';

export function ArtifactTreeView(props: {
  jobId: string;
  finished: boolean;
  /** What the archive of them all is saved as. */
  archiveName: string;
}) {
  const { jobId, finished } = props;
  // Artifacts appear when the job ends: look again until then, rarely after.
  const manifest = usePoll((signal) => api.artifacts(jobId, signal), finished ? 60_000 : 3000, `${jobId}:${finished}`);
  const [error, setError] = useState<Error>();
  /** Bytes arrived so far, by the path of each file being downloaded. */
  const [progress, setProgress] = useState<ReadonlyMap<string, number>>(new Map());
  const setBytes = (path: string, bytes: number | undefined) =>
    setProgress((now) => {
      const next = new Map(now);
      if (bytes === undefined) next.delete(path);
      else next.set(path, bytes);
      return next;
    });
  if (manifest.error) return <ErrorBox error={manifest.error} />;
  if (!manifest.data) return <p class="muted">loading…</p>;
  const tree = artifactTree(manifest.data);
  if (tree.length === 0)
    return <p class="muted">{finished ? 'No artifacts.' : 'Artifacts are saved when the job ends.'}</p>;

  const download = async (node: TreeNode) => {
    if (!node.entry?.digest || progress.has(node.path)) return;
    setError(undefined);
    setBytes(node.path, 0);
    // A chunk arrives every few KB: the line is redrawn at most every PROGRESS_MS.
    let shownAt = 0;
    try {
      const blob = await api.blob(node.entry.digest, (bytes) => {
        if (Date.now() - shownAt < PROGRESS_MS) return;
        shownAt = Date.now();
        setBytes(node.path, bytes);
      });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = node.name;
      document.body.append(a);
      a.click();
      a.remove();
      // The browser has taken the URL once click() returns; free it soon after.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBytes(node.path, undefined);
    }
  };

  return (
    <div class="artifacts">
      <DownloadButton
        label="Download all (.tar)"
        title="every artifact file in one tar archive, at the paths dstack artifacts -o writes them to"
        path={`/jobs/${encodeURIComponent(jobId)}/artifacts/archive`}
        name={props.archiveName}
      />
      <ErrorBox error={error} />
      <ul class="tree">
        {tree.map((node) => (
          <TreeItem key={node.path} node={node} depth={0} progress={progress} onDownload={(n) => void download(n)} />
        ))}
      </ul>
    </div>
  );
}

const PROGRESS_MS = 100;

function TreeItem(props: {
  node: TreeNode;
  depth: number;
  progress: ReadonlyMap<string, number>;
  onDownload: (node: TreeNode) => void;
}) {
  const { node } = props;
  const [open, setOpen] = useState(props.depth < 2);
  if (node.entry) {
    const link = node.entry.link;
    const bytes = props.progress.get(node.path);
    return (
      <li class="file">
        {link || !node.entry.digest ? (
          <span title={link ? `symbolic link to ${link}` : undefined}>
            {node.name}
            {link && <span class="muted"> → {link}</span>}
          </span>
        ) : (
          <button
            class="linklike"
            title={`download ${node.path}`}
            disabled={bytes !== undefined}
            onClick={() => props.onDownload(node)}
          >
            {node.name}
          </button>
        )}
        <span class="size">{bytes === undefined ? formatSize(node.size) : downloading(bytes, node.size)}</span>
      </li>
    );
  }
  return (
    <li class="folder">
      <button class="linklike folder-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} {node.name}/
      </button>
      <span class="size">
        {node.children.length === 0
          ? 'empty'
          : `${formatSize(node.size)} · ${node.files} ${node.files === 1 ? 'file' : 'files'}`}
      </span>
      {open && (
        <ul>
          {node.children.map((child) => (
            <TreeItem
              key={child.path}
              node={child}
              depth={props.depth + 1}
              progress={props.progress}
              onDownload={props.onDownload}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

/** `downloading 1.2 GB of 3.1 GB (39%)`. */
function downloading(bytes: number, size: number): string {
  const percent = size > 0 ? ` (${Math.floor((bytes / size) * 100)}%)` : '';
  return `downloading ${formatSize(bytes)} of ${formatSize(size)}${percent}`;
}
