/** A job's artifact manifest as a tree of folders and files with sizes. Pure. */
import type { ArtifactManifest, ManifestEntry } from '../../../src/core/records.js';

export interface TreeNode {
  /** The last path segment (the artifact's own path for a top-level node). */
  name: string;
  /** Path inside the workspace. */
  path: string;
  /** Bytes: the file's, or the sum of everything under a folder. */
  size: number;
  /** Files under it (1 for a file). */
  files: number;
  /** Set for files and links; a folder has none, an empty one (an entry of its own) included. */
  entry?: ManifestEntry;
  children: TreeNode[];
}

/** One top-level node per declared artifact; folders first, then files, each by name. */
export function artifactTree(manifest: ArtifactManifest): TreeNode[] {
  return manifest.artifacts.map((artifact) => {
    const only = artifact.files[0];
    if (artifact.files.length === 1 && only!.path === artifact.path && !only!.folder)
      return fileNode(artifact.path, only!);
    const root = folder(artifact.path, artifact.path);
    // Entries are named from the workspace, or from the container's root for an absolute artifact.
    const named = artifact.path.replace(/^\/+/, '');
    for (const entry of artifact.files) {
      // Show them under their artifact.
      const inside =
        entry.path === named
          ? ''
          : entry.path.startsWith(`${named}/`)
            ? entry.path.slice(named.length + 1)
            : entry.path.split('/').pop()!;
      const parts = inside === '' ? [] : inside.split('/');
      // An empty folder's entry names the folder itself: every part of its path is a folder.
      const folders = entry.folder ? parts : parts.slice(0, -1);
      let at = root;
      folders.forEach((part, i) => {
        let child = at.children.find((c) => c.name === part && !c.entry);
        if (!child) {
          child = folder(part, `${artifact.path}/${parts.slice(0, i + 1).join('/')}`);
          at.children.push(child);
        }
        at = child;
      });
      if (!entry.folder) at.children.push(fileNode(parts[parts.length - 1]!, entry));
    }
    total(root);
    return root;
  });
}

function fileNode(name: string, entry: ManifestEntry): TreeNode {
  return { name, path: entry.path, size: entry.size, files: 1, entry, children: [] };
}

function folder(name: string, path: string): TreeNode {
  return { name, path, size: 0, files: 0, children: [] };
}

function total(node: TreeNode): void {
  if (node.entry) return;
  node.children.sort((a, b) => Number(!!a.entry) - Number(!!b.entry) || a.name.localeCompare(b.name));
  for (const child of node.children) total(child);
  node.size = node.children.reduce((n, c) => n + c.size, 0);
  node.files = node.children.reduce((n, c) => n + c.files, 0);
}
