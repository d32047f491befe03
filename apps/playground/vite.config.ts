import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset paths, so the built page works from any folder it is served from.
  base: './',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // core's wasm kernels stay files (fetched by the worker), not data URLs.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: { port: 5173 },
  preview: { port: 4173 },
});
