// The wasm backend in a real browser, as users get it: the built package (dist/) bundled by Vite, which
// must emit the .wasm files, loaded by headless Chromium. On the page's main thread it runs
// single-threaded; in a Worker of a cross-origin-isolated page with two threads, giving the same numbers.
// Needs dist/ (turbo builds before testing) and Chromium at /usr/bin/chromium (Debian's); skipped without.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const chromium = '/usr/bin/chromium';
const ready = existsSync(join(root, 'dist/index.js')) && existsSync(join(root, 'dist/core-simd.wasm')) && existsSync(chromium);

interface WorkResult {
  checksum: number;
  first: number[];
}
interface PageResults {
  page: WorkResult & { shared: boolean; threads: number; variant: string; error?: string };
  worker: { one: WorkResult; two: WorkResult | null; shared: boolean; threads: number; variant: string; error?: string };
}

describe.skipIf(!ready)('wasm backend in Chromium (Vite bundle of dist/)', () => {
  let outDir = '';
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

  beforeAll(async () => {
    const { build } = await import('vite');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    outDir = mkdtempSync(join(tmpdir(), 'ssmjs-wasm-browser-'));
    await build({
      root: join(root, 'test/browser'),
      logLevel: 'silent',
      configFile: false,
      resolve: { alias: { '@ssmjs/core': join(root, 'dist/index.js') } },
      build: { outDir, emptyOutDir: true, target: 'es2022' },
      worker: { format: 'es' },
    });
  });

  afterAll(async () => {
    const { rmSync } = await import('node:fs');
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  async function load(isolated: boolean): Promise<PageResults> {
    const server = createServer((req, res) => {
      const path = join(outDir, req.url === '/' ? 'index.html' : decodeURIComponent(req.url!.split('?')[0]));
      if (!path.startsWith(outDir) || !existsSync(path)) return void res.writeHead(404).end();
      const headers: Record<string, string> = { 'content-type': types[extname(path)] ?? 'application/octet-stream' };
      if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
      res.writeHead(200, headers).end(readFileSync(path));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const { chromium: launcher } = await import('playwright-core');
    const browser = await launcher.launch({
      executablePath: chromium,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { results?: unknown }).results !== undefined, null, { timeout: 50_000 });
      return (await page.evaluate(() => (window as unknown as { results: unknown }).results)) as PageResults;
    } finally {
      await browser.close();
      server.close();
    }
  }

  it('Vite emits both .wasm builds as assets', () => {
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.some((f) => /^core-simd-.*\.wasm$/.test(f))).toBe(true);
    expect(assets.some((f) => /^core-relaxed-.*\.wasm$/.test(f))).toBe(true);
  });

  it('runs on a plain page (memory not shared, one thread) and in its Worker', async () => {
    const { page, worker } = await load(false);
    expect(page.error).toBeUndefined();
    expect(page).toMatchObject({ shared: false, threads: 1, variant: 'relaxed' });
    expect(worker.error).toBeUndefined();
    expect(worker.shared).toBe(false);
    expect(worker.one.checksum).toBe(page.checksum);
  });

  it('runs two threads in a Worker of a cross-origin-isolated page, with the same results', async () => {
    const { page, worker } = await load(true);
    expect(page.error).toBeUndefined();
    // The page's main thread may not block on Atomics.wait: one thread even with shared memory.
    expect(page).toMatchObject({ shared: true, threads: 1 });
    expect(worker.error).toBeUndefined();
    expect(worker).toMatchObject({ shared: true, threads: 2 });
    expect(worker.one.checksum).toBe(page.checksum);
    expect(worker.two).toEqual(worker.one);
  });

  it('agrees with the same work on the cpu backend in Node', async () => {
    const core = await import('@ssmjs/core');
    const { work } = await import('./browser/work.js');
    await core.setBackend('cpu');
    const reference = work(core);
    const { page } = await load(false);
    // The browser runs the relaxed-SIMD (FMA) build: equal to rounding.
    expect(Math.abs(page.checksum - reference.checksum) / Math.abs(reference.checksum)).toBeLessThan(1e-5);
    page.first.forEach((v, i) => expect(v).toBeCloseTo(reference.first[i], 6));
  });
});
