/**
 * Frame rate of the network explorer in headless Chromium (WebGPU on SwiftShader here), as a page
 * opens it by default: the 3-cell network at up to real time and a neighbourhood of networks running
 * beside it. Builds and serves the demos, waits for the page to warm up, counts frames over a stretch
 * of wall time and prints one JSON object (also written to test-output/demo-network-fps.json). With
 * `--reference`, the ensemble explorer (1,024 prinz neurons, as its test runs it) is measured in the
 * same browser right after, so the two pages' rates come from one run on the same machine state.
 * A measurement, not a test: the numbers depend on the machine and on what else runs on it (the
 * host's load average is printed with them).
 *
 *   deno run -A demos/testing/network-fps.ts [neighbourhood=1024] [seconds=10] [warmupSeconds=4] [--reference] [--url=extra&params]
 */
import { loadavg } from 'node:os';
import process from 'node:process';
import type { Browser } from 'puppeteer-core';
import { buildAndServe, launchBrowser, openPage, report, waitReady } from './browser.ts';

const args = process.argv.slice(2);
const [nb = '1024', seconds = '10', warmup = '4'] = args.filter((a) => !a.startsWith('--'));
const extra = args.find((a) => a.startsWith('--url='))?.slice(6) ?? '';
const reference = args.includes('--reference');

async function measure(browser: Browser, url: string): Promise<Record<string, unknown>> {
  const { page, errors } = await openPage(browser, url);
  const error = await waitReady(page, 180_000);
  if (error) throw new Error(`${url} failed: ${error}`);
  await new Promise((r) => setTimeout(r, Number(warmup) * 1000));
  const load = loadavg()[0];
  const m = await page.evaluate((ms: number) => (window.__ionsweep!.measure as (ms: number) => Promise<Record<string, unknown>>)(ms), Number(seconds) * 1000);
  const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; adapter: string });
  await page.close();
  return { path: backend.kind, adapter: backend.adapter, loadAverage1min: [load, loadavg()[0]], ...m, errors };
}

const site = await buildAndServe();
const browser = await launchBrowser();
try {
  const url = `${site.url}network.html?nb=${Number(nb)}${extra ? `&${extra}` : ''}`;
  const result: Record<string, unknown> = {
    demo: 'network explorer', url: url.replace(site.url, ''), browser: `headless ${await browser.version()}`, hostCores: navigator.hardwareConcurrency,
    ...(await measure(browser, url)),
  };
  if (reference) result.reference = { demo: 'ensemble explorer', url: 'ensemble.html?model=prinz&n=1024&dt=0.025&seed=3&speed=0', ...(await measure(browser, `${site.url}ensemble.html?model=prinz&n=1024&dt=0.025&seed=3&speed=0`)) };
  report('demo-network-fps', result);
  if ((result.errors as string[]).length) process.exitCode = 1;
} finally {
  await browser.close();
  await site.close();
}
