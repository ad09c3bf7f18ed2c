/**
 * Frame rate of the network explorer in headless Chromium (WebGPU on SwiftShader here), as a page
 * opens it by default: the 3-cell network at up to real time and a neighbourhood of networks running
 * beside it. Builds and serves the demos, waits for the page to warm up, counts frames over a stretch
 * of wall time and prints one JSON object (also written to test-output/demo-network-fps.json).
 * A measurement, not a test: the numbers depend on the machine and on what else runs on it.
 *
 *   deno run -A demos/testing/network-fps.ts [neighbourhood=1024] [seconds=10] [warmupSeconds=4] [extra URL parameters]
 */
import process from 'node:process';
import { buildAndServe, launchBrowser, openPage, report, waitReady } from './browser.ts';

const [nb = '1024', seconds = '10', warmup = '4', extra = ''] = process.argv.slice(2);
const site = await buildAndServe();
const browser = await launchBrowser();
try {
  const url = `${site.url}network.html?nb=${Number(nb)}${extra ? `&${extra}` : ''}`;
  const { page, errors } = await openPage(browser, url);
  const error = await waitReady(page, 180_000);
  if (error) throw new Error(`the page failed: ${error}`);
  await new Promise((r) => setTimeout(r, Number(warmup) * 1000));
  const m = await page.evaluate((ms: number) => (window.__ionsweep!.measure as (ms: number) => Promise<Record<string, number>>)(ms), Number(seconds) * 1000);
  const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; adapter: string });
  const result = {
    demo: 'network explorer', url: url.replace(site.url, ''), browser: `headless ${await browser.version()}`, path: backend.kind, adapter: backend.adapter,
    hostCores: navigator.hardwareConcurrency, ...m, errors,
  };
  report('demo-network-fps', result);
  if (errors.length) process.exitCode = 1;
} finally {
  await browser.close();
  await site.close();
}
