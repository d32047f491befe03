// Vite's defaults, plus relative asset URLs so the test can serve dist/ from any path.
import { defineConfig } from 'vite';

export default defineConfig({ base: './', build: { target: 'es2022' } });
