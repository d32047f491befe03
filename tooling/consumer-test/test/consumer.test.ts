/**
 * The packages as a user gets them: `pnpm pack` each published package (workspace ranges become versions),
 * `npm install` the tarballs into a fresh project in the OS temp dir (no workspace, no aliases, no pnpm),
 * then use them there: Node ESM and CJS scripts, tsc under NodeNext and Bundler resolution, and a Vite
 * build of a page run in headless Chromium. Needs the packages built (`pnpm test` runs the build first)
 * and the npm registry (for vite, typescript and playwright-core in the consumer project).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { argmax, tensor } from '@ssmjs/core';
import { readSafetensorsFile } from '@ssmjs/core/node';
import { MambaLM } from '@ssmjs/mamba';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const consumerFiles = fileURLToPath(new URL('../consumer', import.meta.url));
const checkpoint = join(repo, 'packages/mamba/test/fixtures/tiny');
const CHROMIUM = '/usr/bin/chromium';

/** Every published package: its folder and the built file that must exist before packing. */
const PACKAGES = [
  ['packages/core', 'dist/index.js'],
  ['packages/hippo', 'dist/index.js'],
  ['packages/s4', 'dist/index.js'],
  ['packages/selective-scan', 'dist/index.js'],
  ['packages/mamba', 'dist/index.js'],
  ['packages/tokenizer', 'dist/index.js'],
  ['packages/eval', 'dist/index.js'],
  ['apps/trainer', 'dist/cli.js'],
] as const;

/** Tools the consumer project installs from the registry, at the versions the workspace uses. */
const TOOLS = { vite: '8.4.0', typescript: '5.9.3', 'playwright-core': '1.65.1', '@types/node': '20.19.43' };

/** Runs a command; on failure the error carries its output, so the test report shows why. */
async function sh(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, npm_config_yes: 'true' } });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** The last line of a script's stdout, parsed (the scripts print one JSON line). */
function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

let work: string;
let project: string;
const tarballs = new Map<string, string>(); // package folder → tarball path

beforeAll(async () => {
  const unbuilt = PACKAGES.filter(([dir, file]) => !existsSync(join(repo, dir, file))).map(([dir]) => dir);
  if (unbuilt.length) throw new Error(`not built: ${unbuilt.join(', ')} — run the workspace build first (pnpm test does)`);

  work = await mkdtemp(join(tmpdir(), 'ssmjs-consumer-'));
  const packs = join(work, 'packs');
  project = join(work, 'project');
  await mkdir(packs);
  await mkdir(project);
  for (const [dir] of PACKAGES) {
    const out = await sh('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', packs], join(repo, dir));
    // pnpm pack ends with the tarball's path.
    const tgz = out.trim().split('\n').pop()!.trim();
    if (!tgz.endsWith('.tgz')) throw new Error(`pnpm pack in ${dir} named no tarball:\n${out}`);
    tarballs.set(dir, tgz);
  }

  const dependencies: Record<string, string> = { ...TOOLS };
  for (const [dir, tgz] of tarballs) {
    const { name } = JSON.parse(await readFile(join(repo, dir, 'package.json'), 'utf8')) as { name: string };
    dependencies[name] = `file:${tgz}`;
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'ssmjs-consumer', private: true, type: 'module', dependencies }, null, 2));
  await sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project, 150_000);
  await cp(consumerFiles, project, { recursive: true });
  // The page fetches the checkpoint over HTTP from the built site.
  await mkdir(join(project, 'web/public/tiny'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) await cp(join(checkpoint, f), join(project, 'web/public/tiny', f));
}, 150_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('tarballs', () => {
  it('hold the built files, LICENSE and README, and no sources or tests', async () => {
    for (const [dir, built] of PACKAGES) {
      const listing = (await sh('tar', ['tzf', tarballs.get(dir)!], work)).split('\n').filter(Boolean);
      expect(listing, dir).toContain(`package/${built}`);
      expect(listing, dir).toContain('package/LICENSE');
      expect(listing.filter((f) => /^package\/(src|test|bench|assembly|scripts|kernels)\//.test(f)), dir).toEqual([]);
    }
    const core = await sh('tar', ['tzf', tarballs.get('packages/core')!], work);
    expect(core).toContain('package/dist/core-simd.wasm');
    expect(core).toContain('package/dist/core-relaxed.wasm');
    expect(core).not.toContain('package/dist/demo.');
  });

  it('name sibling packages by version ranges, not workspace: links', async () => {
    const manifest = await sh('tar', ['xzf', tarballs.get('packages/mamba')!, '-O', 'package/package.json'], work);
    const { dependencies } = JSON.parse(manifest) as { dependencies: Record<string, string> };
    expect(dependencies['@ssmjs/core']).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(dependencies['@ssmjs/selective-scan']).toMatch(/^\^\d+\.\d+\.\d+$/);
  });
});

describe('Node', () => {
  // transformers' greedy continuation of the fixture's prompts, and its float64 loss on input_ids.
  let greedyRows: number[][];
  let hfLoss: number;

  beforeAll(async () => {
    const expected = await readSafetensorsFile(join(checkpoint, 'expected.safetensors'));
    const greedy = Array.from(await expected.greedy!.data());
    const width = expected.greedy!.shape[1]!;
    greedyRows = [greedy.slice(0, width), greedy.slice(width)];
    hfLoss = (await expected.loss_f64!.data())[0]!;
  });

  for (const script of ['node-esm.mjs', 'node-cjs.cjs']) {
    it(`${script}: loads the checkpoint, generates transformers' tokens, an AdamW step lowers the loss`, async () => {
      const stdout = await sh('node', [script, checkpoint, join(checkpoint, 'expected.safetensors'), 'wasm'], project);
      const result = lastJsonLine(stdout);
      expect(result.format).toBe(script.endsWith('.cjs') ? 'cjs' : 'esm');
      expect(result.backend).toBe('wasm');
      expect(result.generated).toEqual(greedyRows);
      expect(result.loss as number).toBeCloseTo(hfLoss, 4);
      expect(result.lossAfterStep as number).toBeLessThan(result.loss as number);
    });
  }
});

describe('TypeScript', () => {
  for (const config of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
    it(`tsc --noEmit -p ${config} accepts the consumer (the packages' .d.ts, skipLibCheck off)`, async () => {
      await sh('node', [join(project, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', config], project);
    });
  }
});

describe.skipIf(!existsSync(CHROMIUM))('Vite page in headless Chromium', () => {
  let server: Server | undefined;

  afterAll(() => server?.close());

  it('bundles core, mamba and tokenizer; the wasm kernels load through the bundler, lazily; the forward matches Node', async () => {
    await sh('node', [join(project, 'node_modules/vite/bin/vite.js'), 'build', 'web'], project);
    const dist = join(project, 'web/dist');
    const assets = await readdir(join(dist, 'assets'));
    expect(assets.some((f) => /^core-simd-.*\.wasm$/.test(f)), assets.join(', ')).toBe(true);

    server = await serveStatic(dist);
    // playwright-core from the consumer project: the browser test uses what the user would install.
    const { chromium } = (await import(join(project, 'node_modules/playwright-core/index.mjs'))) as { chromium: Chromium };
    const profile = join(work, 'chromium-profile');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const pageErrors: string[] = [];
    let result: Record<string, unknown>;
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== 'running…', null, { timeout: 60_000 });
      result = JSON.parse((await page.textContent('#result')) ?? '{}');
    } finally {
      await context.close();
    }
    expect(result.error, String(result.error)).toBeUndefined();
    expect(pageErrors).toEqual([]);
    expect(result.backend).toBe('wasm');
    // Importing @ssmjs/core fetched no wasm; setBackend('wasm') fetched a kernel file emitted by Vite.
    expect(result.beforeSetBackend).toEqual([]);
    expect(result.afterSetBackend).toEqual([expect.stringMatching(/\/assets\/core-(simd|relaxed)-[\w-]+\.wasm$/)]);

    // The same prompt on the workspace sources in Node (cpu backend): the browser's wasm run must agree.
    const model = await MambaLM.fromPretrained(checkpoint);
    const prompt = result.prompt as number[];
    const logits = model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'));
    expect(result.argmaxPerPosition).toEqual(Array.from(await argmax(logits, -1).data()));
    logits.dispose();
    const reference = await model.generate([result.prompt as number[]], { maxNewTokens: 6, temperature: 0 });
    model.dispose();
    expect(result.generated).toEqual(reference);
  });
});

/** The part of playwright-core's API this test uses (imported at run time from the consumer project). */
interface Chromium {
  launchPersistentContext(dir: string, options: { executablePath: string; headless: boolean; args: string[] }): Promise<{
    pages(): BrowserPage[];
    newPage(): Promise<BrowserPage>;
    close(): Promise<void>;
  }>;
}
interface BrowserPage {
  on(event: 'pageerror', listener: (error: Error) => void): void;
  goto(url: string): Promise<unknown>;
  waitForFunction(fn: () => boolean, arg: null, options: { timeout: number }): Promise<unknown>;
  textContent(selector: string): Promise<string | null>;
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** A static file server for the built page on a free port. */
function serveStatic(dir: string): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir)) return void response.writeHead(403).end();
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}
