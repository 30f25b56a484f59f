import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built with `vite build web` (root = this folder) into dist/web at the repository root, which
// Fastify serves at / (src/platform/web-app.ts): hashed files under /assets, index.html for
// every app route.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline <script> and no data: scripts: the CSP allows scripts from 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    proxy: { '/api': { target: 'http://localhost:3000', ws: true } },
  },
});
