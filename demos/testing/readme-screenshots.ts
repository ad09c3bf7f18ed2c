/**
 * Takes the README's screenshots of the demos (docs/screenshots/), with longer runs than the tests
 * use. Run: `npm run screenshots:demos [ensemble] [landscape] [network] [gpujs]` (a few minutes on a software GPU).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { REPO, buildAndServe, launchBrowser, openPage, saveScreenshot, waitFor, waitReady } from './browser.ts';

const out = join(REPO, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const site = await buildAndServe();
const browser = await launchBrowser();
const keep = async (name: string, page: Parameters<typeof saveScreenshot>[0]) => {
  const path = await saveScreenshot(page, name);
  copyFileSync(path, join(out, `${name}.png`));
  console.log(`docs/screenshots/${name}.png`);
};

const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

try {
  // ensemble explorer: 1,024 prinz neurons from the Prinz 2003 grid, a bursting one selected
  if (wanted('ensemble')) {
    const { page } = await openPage(browser, `${site.url}ensemble.html?model=prinz&n=1024&dt=0.05&seed=3&speed=0&stopAtMs=2500`, { height: 1200 });
    if (await waitReady(page)) throw new Error('ensemble page failed');
    await waitFor(page, 'window.__ionsweep.simMs >= 2500', 1_200_000);
    const classes = await page.evaluate(() => window.__ionsweep!.classifyNow() as Promise<string[]>);
    const bursting = Math.max(0, classes.findIndex((c, i) => c === 'bursting' && i % 85 === 0) >= 0 ? classes.findIndex((c, i) => c === 'bursting' && i % 85 === 0) : classes.indexOf('bursting'));
    await page.evaluate((i: number) => window.__ionsweep!.select(i), bursting);
    await new Promise((r) => setTimeout(r, 1000));
    await keep('ensemble-explorer', page);
    await page.close();
  }
  // landscape explorer on WebGPU: the valley of AB/PD 1's mean calcium and the curve through the cell
  if (wanted('landscape')) {
    const { page } = await openPage(browser, `${site.url}landscape.html?grid=24&duration=6000&curveLength=1.5`, { height: 1000 });
    if (await waitReady(page, 1_200_000)) throw new Error('landscape page failed');
    const s = await page.evaluate(() => window.__ionsweep!.settings as { x: string; y: string; preset: Record<string, number> });
    const [px, py] = await page.evaluate((x: number, y: number) => window.__ionsweep!.mapPosition(x, y) as [number, number], s.preset[s.x], s.preset[s.y]);
    await page.mouse.click(px, py);
    await waitFor(page, 'window.__ionsweep.point', 600_000);
    await page.click('#curve');
    await waitFor(page, 'window.__ionsweep.curve', 1_200_000);
    await new Promise((r) => setTimeout(r, 500));
    await keep('landscape-explorer', page);
    await page.close();
  }
  // network explorer: example j with a classified neighbourhood of 256 networks (dt 0.05 ms, so the
  // neighbourhood reaches the 10 s its classes need in minutes rather than an hour on a software GPU)
  if (wanted('network')) {
    const { page } = await openPage(browser, `${site.url}network.html?nb=256&dt=0.05&spread=2&budget=60&nbStopAtMs=10000`, { height: 1240 });
    if (await waitReady(page)) throw new Error('network page failed');
    // polled from here: one waitForFunction longer than the browser's protocol timeout (3 min) fails
    for (let t = 0; !(await page.evaluate(() => window.__ionsweep!.nbSimMs >= 10000 && window.__ionsweep!.simMs >= 12000)); t += 5) {
      if (t > 3600) throw new Error('the neighbourhood did not reach 10 s within an hour');
      if (t % 60 === 0) console.log(`network: neighbourhood at ${await page.evaluate(() => window.__ionsweep!.nbSimMs)} ms`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    await page.evaluate(() => window.__ionsweep!.classifyNeighbourhoodNow());
    await page.evaluate(() => window.__ionsweep!.classifyNow());
    // a few seconds more, so the status bar's rates are those of running frames again
    await new Promise((r) => setTimeout(r, 4000));
    await keep('network-explorer', page);
    await page.close();
  }
  // the WebGL2 path (gpu.js) in a browser without WebGPU
  if (wanted('gpujs')) {
    const { page } = await openPage(browser, `${site.url}landscape.html?grid=16&duration=3000`, { noWebGpu: true, height: 900 });
    if (await waitReady(page, 1_200_000)) throw new Error('landscape (gpu.js) page failed');
    await keep('landscape-explorer-gpujs', page);
    await page.close();
  }
} finally {
  await browser.close();
  await site.close();
}
