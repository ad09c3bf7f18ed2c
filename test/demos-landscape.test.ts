/**
 * The landscape explorer in a real browser (headless Chromium, SwiftShader), on each of its paths:
 * WebGPU (the landscape job on the GPU engine), WebGL2 through gpu.js (a browser without WebGPU), and
 * the CPU engine in a Web Worker. Each draws its map (pixels), and its numbers agree with the f64 CPU
 * engine: the cost grid, the clicked model's mean [Ca] and gradient, and the minimally disruptive curve
 * (every point of it is re-simulated here and must keep the cost under the curve's ceiling).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { taperedMean } from '../src/analysis/costs.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { runLandscape } from '../src/jobs/landscape.ts';
import { TAPER_SAMPLE_MS, landscapeSpec, type LandscapeSettings } from '../demos/landscape/compute.ts';
import { runPointsJob } from '../demos/lib/cpu-job.ts';
import { modelInfo } from '../demos/lib/models.ts';
import { pixelStats } from '../demos/testing/png.ts';
import {
  CANVAS_BACKGROUND, browserAvailable, buildAndServe, elementPixels, launchBrowser, openPage, report, saveScreenshot, waitFor, waitReady, type DemoSite,
} from '../demos/testing/browser.ts';

const enabled = browserAvailable();

interface PageLandscape {
  nx: number; ny: number; xValues: number[]; yValues: number[]; cost: number[]; gradient: number[][]; target: number; engine: string; gradientFrom: string;
}

/** The cost grid of the page's settings on the f64 CPU engine (the landscape job, in this process). */
async function cpuLandscape(settings: LandscapeSettings) {
  return runLandscape(landscapeSpec(settings, 'cpu'), { run: { threads: 2 } });
}

/** |√cost_page − √cost_cpu|: the difference of the relative calcium errors, well defined near cost 0. */
function costDifferences(page: PageLandscape, cpu: Float64Array): number[] {
  return page.cost.map((c, k) => Math.abs(Math.sqrt(c) - Math.sqrt(cpu[k]))).sort((a, b) => a - b);
}

/**
 * The relative mean-[Ca] error √cost of every grid point on the CPU engine in f32: the points whose
 * value f32 rounding cannot tip. Most models agree with f64 to ~1e-6; a few, whose short-window mean
 * [Ca] depends on whether one more burst or spike fits in the window, are tipped by any f32 run (a
 * quarter of a 6 × 6 grid of 1-s runs, measured): those are left out of the comparison.
 */
async function f32Cpu(settings: LandscapeSettings, L: PageLandscape): Promise<number[]> {
  const info = modelInfo(settings.model);
  const N = L.nx * L.ny;
  const params: Record<string, number[]> = {};
  for (const g of info.conductances) params[g] = new Array(N).fill(settings.preset[g]);
  for (let iy = 0; iy < L.ny; iy++) {
    for (let ix = 0; ix < L.nx; ix++) [params[settings.x][iy * L.nx + ix], params[settings.y][iy * L.nx + ix]] = [L.xValues[ix], L.yValues[iy]];
  }
  const r = await runCpu({
    program: compile(info.model, { dtMs: settings.dtMs, instanceParams: info.conductances }), N, params, durationMs: settings.durationMs, discardMs: settings.discardMs,
    ...(settings.taper ? { traceEveryMs: TAPER_SAMPLE_MS, traceInstances: Array.from({ length: N }, (_, i) => i) } : {}),
  }, { precision: 'f32', threads: 2 });
  const means = settings.taper
    ? Array.from({ length: N }, (_, i) => taperedMean(r.traces!.series(i, 'Ca'), r.traces!.timesMs, settings.discardMs, settings.durationMs))
    : Array.from(r.observed.find((o) => o.name === 'Ca')!.mean);
  return means.map((m) => Math.abs(m - L.target) / L.target);
}

/** The page's grid agrees with f64 wherever f32 arithmetic can (see f32Cpu); returns a summary. */
async function expectAgreement(settings: LandscapeSettings, L: PageLandscape, cpu: Float64Array) {
  const f32 = await f32Cpu(settings, L);
  const f64 = Array.from(cpu, Math.sqrt);
  const page = L.cost.map(Math.sqrt);
  const stable = f64.map((v, k) => Math.abs(f32[k] - v) < 1e-3);
  const agree = page.filter((v, k) => stable[k] && Math.abs(v - f64[k]) < 1e-3).length;
  const all = costDifferences(L, cpu);
  const summary = {
    points: page.length, f32Stable: stable.filter(Boolean).length, agreeingWhereStable: agree, median: all[Math.floor(all.length / 2)],
    pageWithin1e3: all.filter((x) => x < 1e-3).length / all.length, f32CpuWithin1e3: stable.filter(Boolean).length / stable.length,
  };
  expect(summary.f32Stable).toBeGreaterThanOrEqual(0.5 * page.length);
  expect(agree).toBeGreaterThanOrEqual(0.95 * summary.f32Stable);
  expect(summary.median).toBeLessThan(1e-4);
  return summary;
}

async function mapStats(page: Page) {
  return pixelStats(await elementPixels(page, '#map'), CANVAS_BACKGROUND);
}

describe.skipIf(!enabled)('landscape explorer in Chromium', () => {
  let site: DemoSite;
  let browser: Browser;

  beforeAll(async () => {
    site = await buildAndServe();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('WebGPU: draws the cost map, matches the CPU engine, inspects a clicked model and draws its minimally disruptive curve', async () => {
    const { page, errors } = await openPage(browser, `${site.url}landscape.html?grid=8&duration=2000&discard=500&curveLength=0.3`);
    expect(await waitReady(page, 180_000)).toBeNull();
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; adapter: string });
    expect(backend.kind).toBe('webgpu');
    const status = await page.$eval('#status', (el) => el.textContent ?? '');
    expect(status).toContain('WebGPU');
    expect(status).toContain(backend.adapter);
    expect(status).toMatch(/sim s \/ wall s/);
    const settings = await page.evaluate(() => window.__ionsweep!.settings as LandscapeSettings);
    const L = await page.evaluate(() => window.__ionsweep!.landscape as PageLandscape);
    expect(L.gradientFrom).toBe('tangent lanes');

    const cpu = await cpuLandscape(settings);
    expect(L.target).toBeCloseTo(cpu.problem.terms[0].kind === 'mean' ? cpu.problem.terms[0].target : NaN, 9);
    const agreement = await expectAgreement(settings, L, cpu.cost);
    // gradients: f32 tangents of a 1-s mean of a burster are ill-conditioned (gpu-agreement.test.ts),
    // so compare the direction of steepest descent, not its digits, on the well-conditioned majority
    let sameDirection = 0;
    for (let k = 0; k < L.cost.length; k++) {
      const [a, b] = [[L.gradient[0][k], L.gradient[1][k]], [cpu.gradient[0][k], cpu.gradient[1][k]]];
      const cos = (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(...a) * Math.hypot(...b) || 1);
      if (cos > 0.9) sameDirection++;
    }
    report('demo-landscape-webgpu', { grid: `${L.nx}x${L.ny}`, ...agreement, gradientDirectionWithin26deg: sameDirection / L.cost.length });
    expect(sameDirection / L.cost.length).toBeGreaterThan(0.6);

    // pixels: a colour map with arrows over it and the reference cell's cross
    const map = await mapStats(page);
    expect(map.drawn).toBeGreaterThan(0.9);
    expect(map.colors).toBeGreaterThan(8);

    // click the grid point (2, 5): that model's traces, mean [Ca], cost and exact gradient (f64)
    const [x, y] = [L.xValues[2], L.yValues[5]];
    const [px, py] = await page.evaluate((a: number, b: number) => window.__ionsweep!.mapPosition(a, b) as [number, number], x, y);
    await page.mouse.click(px, py);
    await waitFor(page, 'window.__ionsweep.point', 60_000);
    const point = await page.evaluate(() => window.__ionsweep!.point as { x: number; y: number; cost: number; gradient: number[]; meanCa: number; job: { params: Record<string, number[]> } });
    expect(Math.abs(Math.log(point.x / x))).toBeLessThan(0.5 * (Math.log(L.xValues[1]) - Math.log(L.xValues[0]))); // within the cell
    const info = modelInfo(settings.model);
    const ref = await runCpu({
      program: compile(info.model, { dtMs: settings.dtMs, instanceParams: Object.keys(point.job.params) }), N: 1,
      params: point.job.params, durationMs: settings.durationMs, discardMs: settings.discardMs,
    }, { threads: 1 });
    expect(point.meanCa).toBeCloseTo(ref.observed.find((o) => o.name === 'Ca')!.mean[0], 9);
    const at = await runPointsJob(landscapeSpec(settings, 'cpu'), [Float64Array.of(Math.log(point.x)), Float64Array.of(Math.log(point.y))]);
    expect(point.cost).toBeCloseTo(at.cost[0], 12);
    point.gradient.forEach((g, j) => expect(Math.abs(g - at.gradient[j][0])).toBeLessThanOrEqual(1e-9 * Math.abs(at.gradient[j][0]) + 1e-15));
    for (const id of ['#point-v', '#point-ca']) expect((await elementPixels(page, id).then((img) => pixelStats(img, CANVAS_BACKGROUND))).drawn).toBeGreaterThan(0.01);

    // the curve through it: every point re-evaluated here keeps the cost (against the clicked model's
    // own mean [Ca]) under the curve's ceiling
    await page.click('#curve');
    await waitFor(page, 'window.__ionsweep.curve', 120_000);
    const curve = await page.evaluate(() => window.__ionsweep!.curve as { s: number[]; coords: number[][]; cost: number[]; ceiling: number; keys: string[] });
    expect(curve.keys).toEqual([`log:${settings.x}`, `log:${settings.y}`]);
    expect(curve.s.length).toBeGreaterThan(2);
    expect(Math.max(...curve.s) - Math.min(...curve.s)).toBeGreaterThan(0.05);
    const again = await runPointsJob({ ...landscapeSpec(settings, 'cpu'), target: { [settings.x]: point.x, [settings.y]: point.y } }, curve.coords.map((c) => Float64Array.from(c)));
    again.cost.forEach((c, k) => {
      expect(c).toBeCloseTo(curve.cost[k], 12);
      expect(c).toBeLessThanOrEqual(curve.ceiling);
    });
    report('demo-landscape-curve', { points: curve.s.length, arcLength: [Math.min(...curve.s), Math.max(...curve.s)], ceiling: curve.ceiling, largestCost: Math.max(...again.cost) });
    await new Promise((r) => setTimeout(r, 200));
    expect((await mapStats(page)).colors).toBeGreaterThan(8);
    await saveScreenshot(page, 'landscape-webgpu');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('WebGL2 through gpu.js in a browser without WebGPU: says so, draws the map, and matches the CPU engine', async () => {
    const { page, errors } = await openPage(browser, `${site.url}landscape.html?grid=6&duration=1000&discard=250`, { noWebGpu: true });
    expect(await waitReady(page, 180_000)).toBeNull();
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; reason: string; adapter: string });
    expect(backend.kind).toBe('webgl2');
    expect(backend.reason).toContain('navigator.gpu is missing');
    expect(await page.$eval('#status', (el) => el.textContent ?? '')).toContain('WebGL2 via gpu.js');
    expect(await page.$eval('#notices', (el) => el.textContent ?? '')).toContain('gpu.js');
    const settings = await page.evaluate(() => window.__ionsweep!.settings as LandscapeSettings);
    const L = await page.evaluate(() => window.__ionsweep!.landscape as PageLandscape);
    expect(L.engine).toContain('gpu.js');
    expect(L.gradientFrom).toBe('finite differences on the grid');
    const cpu = await cpuLandscape(settings);
    const agreement = await expectAgreement(settings, L, cpu.cost);
    report('demo-landscape-gpujs', { grid: `${L.nx}x${L.ny}`, renderer: backend.adapter, ...agreement });
    const map = await mapStats(page);
    expect(map.drawn).toBeGreaterThan(0.9);
    expect(map.colors).toBeGreaterThan(6);
    await saveScreenshot(page, 'landscape-webgl2-gpujs');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('CPU engine in a Web Worker when asked (?backend=cpu): f64, identical to the landscape job here', async () => {
    const { page, errors } = await openPage(browser, `${site.url}landscape.html?backend=cpu&grid=4&duration=1000&discard=250`);
    expect(await waitReady(page, 120_000)).toBeNull();
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; reason: string });
    expect(backend).toMatchObject({ kind: 'cpu', reason: 'forced by ?backend=cpu' });
    const settings = await page.evaluate(() => window.__ionsweep!.settings as LandscapeSettings);
    const L = await page.evaluate(() => window.__ionsweep!.landscape as PageLandscape);
    const cpu = await cpuLandscape(settings);
    L.cost.forEach((c, k) => expect(Math.abs(c - cpu.cost[k])).toBeLessThanOrEqual(1e-12 * Math.max(1, cpu.cost[k])));
    expect((await mapStats(page)).drawn).toBeGreaterThan(0.9);
    expect(errors).toEqual([]);
    await page.close();
  });
});
