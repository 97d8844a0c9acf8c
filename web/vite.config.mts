import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The console: built from web/ into dist/console, served by the API server at /console/.
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [preact()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    sourcemap: false,
    // No inline <script>/data: URLs: the console runs under `default-src 'self'`.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
