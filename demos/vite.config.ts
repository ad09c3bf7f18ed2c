/**
 * Vite configuration of the browser demos: `npm run demo` serves them, `npm run build:demos` writes a
 * static site to dist/demos (relative URLs, so it can be served from any folder). The demos import the
 * library straight from ../src (TypeScript with .ts extensions), so the server may read the whole
 * repository. WebGPU needs a secure context: the server listens on 127.0.0.1 (a secure origin).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const demos = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: demos,
  base: './',
  publicDir: false,
  clearScreen: false,
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [repo] } },
  preview: { host: '127.0.0.1', port: 4173 },
  build: {
    outDir: `${repo}dist/demos`,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: {
        index: `${demos}index.html`,
        ensemble: `${demos}ensemble.html`,
        landscape: `${demos}landscape.html`,
        network: `${demos}network.html`,
      },
    },
  },
  worker: { format: 'es' },
});
