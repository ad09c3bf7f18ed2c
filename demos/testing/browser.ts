/**
 * What the browser tests share: build the demos and serve the static site on 127.0.0.1 (a secure
 * context, which WebGPU needs), drive the system Chromium through puppeteer-core with WebGPU on
 * SwiftShader, read canvases back as pixels, save screenshots where CI keeps test output.
 *
 * In CI (env CI set) a missing Chromium or a page without WebGPU fails the tests; elsewhere they skip.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build, preview } from 'vite';
import { decodePng, type Image } from './png.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const TEST_OUTPUT = join(REPO, 'test-output');
export const SCREENSHOTS = join(TEST_OUTPUT, 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * docs/runtime.md's flags for WebGPU on SwiftShader, plus ANGLE on SwiftShader for the compositor:
 * without `--use-angle=swiftshader`, presenting a WebGPU canvas loses the device ("Device was
 * destroyed") in headless Chromium 156; `--enable-unsafe-swiftshader` opts WebGL2 into SwiftShader.
 */
export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

export const inCI = Boolean(process.env.CI);

/** Chromium is present; in CI its absence is an error, elsewhere a reason to skip. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (inCI) throw new Error(`CI is set but ${CHROMIUM} is missing (scripts/setup-debian.sh installs chromium); browser tests must not be skipped in CI`);
  return false;
}

export interface DemoSite {
  url: string;
  close(): Promise<void>;
}

/** Builds the demos (as `npm run build:demos` does) into a temporary folder and serves them on 127.0.0.1. */
export async function buildAndServe(): Promise<DemoSite> {
  const outDir = join(tmpdir(), `ionsweep-demos-${process.pid}-${Date.now()}`);
  const configFile = join(REPO, 'demos/vite.config.ts');
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview gave no local URL');
  return { url, close: () => server.close() };
}

export async function launchBrowser(extraFlags: string[] = []): Promise<Browser> {
  const userDataDir = join(tmpdir(), `ionsweep-chromium-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, ...extraFlags],
    protocolTimeout: 180_000,
  });
}

/** A page that collects console errors and uncaught exceptions (tests assert there are none). */
export async function openPage(browser: Browser, url: string, options: { width?: number; height?: number; noWebGpu?: boolean } = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  await page.setViewport({ width: options.width ?? 1400, height: options.height ?? 1100 });
  if (options.noWebGpu) {
    // a browser without WebGPU: navigator.gpu is absent before any script runs
    await page.evaluateOnNewDocument(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
  }
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}

/** Waits for `window.__ionsweep` to say ready (or error), then returns the error (null when ready). */
export async function waitReady(page: Page, timeout = 90_000): Promise<string | null> {
  await page.waitForFunction('window.__ionsweep && (window.__ionsweep.ready || window.__ionsweep.error)', { timeout, polling: 100 });
  return page.evaluate(() => (window.__ionsweep!.error as string | null) ?? null);
}

/** Waits until `expression` (evaluated in the page) is truthy. */
export async function waitFor(page: Page, expression: string, timeout = 90_000): Promise<void> {
  await page.waitForFunction(expression, { timeout, polling: 100 });
}

/**
 * Waits until `done` (evaluated in the page) is truthy for as long as `progress` (a number, evaluated
 * in the page, e.g. simulated ms) keeps growing: fails only when it stalls for `stallMs`. A loaded
 * machine makes a run slower, not wrong, so no test should fail for taking longer than usual.
 */
export async function waitWhileProgressing(page: Page, done: string, progress: string, stallMs = 120_000): Promise<void> {
  let last = -Infinity, lastAt = Date.now();
  for (;;) {
    const [finished, value] = await page.evaluate(`[Boolean(${done}), Number(${progress})]`) as [boolean, number];
    if (finished) return;
    if (value > last) [last, lastAt] = [value, Date.now()];
    else if (Date.now() - lastAt > stallMs) throw new Error(`no progress for ${stallMs / 1000} s waiting for ${done} (${progress} stayed at ${value})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The pixels of an element as composited on screen (a screenshot clipped to it). */
export async function elementPixels(page: Page, selector: string): Promise<Image> {
  const el = await page.$(selector);
  if (!el) throw new Error(`no element ${selector}`);
  const shot = await el.screenshot({ type: 'png' });
  return decodePng(new Uint8Array(shot));
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  const shot = await page.screenshot({ type: 'png', fullPage: true });
  writeFileSync(path, shot);
  return path;
}

/** Writes a JSON report to test-output/<name>.json and prints it. */
export function report(name: string, value: unknown): void {
  mkdirSync(TEST_OUTPUT, { recursive: true });
  const text = JSON.stringify(value, null, 2);
  writeFileSync(join(TEST_OUTPUT, `${name}.json`), `${text}\n`);
  console.log(`${name}: ${text}`);
}

/** Background colour of the demo canvases (#0e1014). */
export const CANVAS_BACKGROUND: [number, number, number] = [14, 16, 20];
