/**
 * The dashboard's build: `vite build web` (part of `npm run build`) writes dist/web, which the
 * server serves. Preact through the automatic JSX runtime of Vite's own transformer: no Babel,
 * no plugin. Vite 8 (the one vitest 4 brings), not 7: Vite 7's rollup has platform packages
 * this registry does not all carry, which leaves `npm ci` with a lock file it calls out of sync.
 */
import { builtinModules } from 'node:module';
import { defineConfig, type Plugin } from 'vite';

/** A Node module in the page would be an empty stub that throws once called: fail the build instead. */
const noNodeModules: Plugin = {
  name: 'dstack:no-node-modules',
  enforce: 'pre',
  resolveId(id, importer) {
    if (id.startsWith('node:') || builtinModules.includes(id)) {
      this.error(`${importer ?? 'the dashboard'} imports ${id}, which a browser does not have`);
    }
  },
};

export default defineConfig({
  base: '/',
  plugins: [noNodeModules],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  // `npx vite web` serves the app with hot reload against `dstack server` on its default port.
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
