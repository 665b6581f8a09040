/**
 * Bundles the CLI's entry points (dist/cli/main.js, dist/cli/runner-exec-main.js, and the
 * file worker thread's dist/cli/file-worker.js: src/files/file-workers.ts) over
 * tsc's output of them. Node compiles and links each ES module file on its own; the ~70 files
 * a `dstack run` loads cost it about a sixth of its start-up, and every Slurm batch job too.
 * Packages stay external (better-sqlite3 is native; node_modules resolve as before). Shared
 * and lazily loaded code goes to chunk files in the same folder, so paths taken from
 * `import.meta.url` (src/cli/entry-points.ts, src/server/web.ts) resolve alike in both builds.
 * Last, `dist/cli/build-id`: a digest of the bundle, which a local server records at its start.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const outdir = 'dist/cli';
const CHUNK = /^chunk-[A-Z0-9]+\.js$/;

// Chunks of an earlier build: their names change with their content.
for (const name of await readdir(outdir).catch(() => [])) {
  if (CHUNK.test(name)) await rm(join(outdir, name));
}

await build({
  // Named: each lands in dist/cli/ under its own name (the worker beside the chunk that starts it).
  entryPoints: {
    main: 'src/cli/main.ts',
    'runner-exec-main': 'src/cli/runner-exec-main.ts',
    'file-worker': 'src/files/file-worker.ts',
  },
  outdir,
  bundle: true,
  // Without splitting, a dynamic import() would be inlined: dockerode and the server would load on every call.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});

// What this build is, for telling a local server started by an earlier build (src/cli/local-server.ts).
const hash = createHash('sha256');
for (const name of (await readdir(outdir)).filter((n) => n.endsWith('.js')).sort()) {
  hash.update(name).update(await readFile(join(outdir, name)));
}
await writeFile(join(outdir, 'build-id'), hash.digest('hex').slice(0, 16) + '\n');
