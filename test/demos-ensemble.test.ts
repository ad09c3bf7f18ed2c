/**
 * The ensemble explorer in a real browser (headless Chromium, WebGPU on SwiftShader): it loads, runs,
 * draws (pixels read back from the screen, not the DOM), and its numbers agree with the f64 CPU engine
 * for the same neurons: spike counts and voltage traces read from the GPU's own buffers, activity
 * classes, and the gradient shown for a clicked neuron. Frames per second with 1,024 prinz neurons are
 * measured and written to test-output/demo-fps.json (reported, not asserted: timing depends on the
 * machine). Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { classifyActivity } from '../src/analysis/classify.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { modelInfo } from '../demos/lib/models.ts';
import { pixelStats } from '../demos/testing/png.ts';
import {
  CANVAS_BACKGROUND, browserAvailable, buildAndServe, elementPixels, launchBrowser, openPage, report, saveScreenshot, waitFor, waitReady, type DemoSite,
} from '../demos/testing/browser.ts';

const enabled = browserAvailable();

/** The page's parameter table ([P][N], f32) as columns for the CPU engine. */
async function pageColumns(page: Page): Promise<{ names: string[]; N: number; columns: Record<string, Float64Array> }> {
  const [names, flat, N] = await page.evaluate(() => [window.__ionsweep!.instanceParams(), window.__ionsweep!.params(), (window.__ionsweep!.config as { N: number }).N] as [string[], number[], number]);
  const columns = Object.fromEntries(names.map((name, q) => [name, Float64Array.from(flat.slice(q * N, (q + 1) * N))]));
  return { names, N, columns };
}

describe.skipIf(!enabled)('ensemble explorer in Chromium (WebGPU on SwiftShader)', () => {
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

  it('runs 1,024 prinz neurons, draws them, keeps its frame rate, and matches the CPU engine', async () => {
    const stopAtMs = 150;
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html?model=prinz&n=1024&dt=0.025&seed=3&speed=0&stopAtMs=${stopAtMs}`);
    expect(await waitReady(page)).toBeNull();
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; adapter: string });
    expect(backend.kind).toBe('webgpu');
    expect(await page.$eval('#status', (el) => el.textContent)).toContain('WebGPU');

    // frame rate while the simulation runs flat out (measured after a second of warm-up)
    await new Promise((r) => setTimeout(r, 1000));
    const fps = await page.evaluate(() => (window.__ionsweep!.measure as (ms: number) => Promise<Record<string, number>>)(5000));
    report('demo-fps', { demo: 'ensemble explorer', model: 'prinz', browser: 'headless Chromium', adapter: backend.adapter, ...fps });
    expect(fps.frames).toBeGreaterThan(0);
    expect(fps.simSecondsPerWallSecond).toBeGreaterThan(0);

    await waitFor(page, `window.__ionsweep.simMs >= ${stopAtMs}`, 120_000);
    const simMs = await page.evaluate(() => window.__ionsweep!.simMs as number);
    expect(simMs).toBeCloseTo(stopAtMs, 9);

    // the same neurons on the f64 CPU engine
    const { names, N, columns } = await pageColumns(page);
    expect(N).toBe(1024);
    const info = modelInfo('prinz');
    expect(names).toEqual(info.instanceParams);
    const traceEveryMs = await page.evaluate(() => window.__ionsweep!.traceEveryMs() as number);
    const rows = [0, 85, 170, 511, 1023];
    const spec = { program: compile(info.model, { dtMs: 0.025, instanceParams: names }), N, params: columns, durationMs: stopAtMs, traceEveryMs, traceInstances: rows };
    const cpu = await runCpu(spec, { threads: 2 });
    // the same in f32 on the CPU: neurons whose spike count f32 rounding tips either way (a few of a
    // random Prinz-grid draw sit at a threshold, e.g. whether a second burst starts in the window)
    const cpu32 = await runCpu({ ...spec, traceInstances: undefined, traceEveryMs: undefined }, { threads: 2, precision: 'f32' });

    // spike counts of every neuron, read from the GPU's events buffer
    const counts = await page.evaluate(() => (window.__ionsweep!.spikeCounts as () => Promise<number[]>)());
    let same = 0, stable = 0, sameWhereStable = 0, spikes = 0;
    for (let i = 0; i < N; i++) {
      const ref = cpu.spikes[0].count[i];
      if (counts[i] === ref) same++;
      if (cpu32.spikes[0].count[i] === ref) {
        stable++;
        if (counts[i] === ref) sameWhereStable++;
      }
      spikes += ref;
    }
    expect(spikes).toBeGreaterThan(100); // the draw has spiking neurons, so the comparison means something
    expect(stable).toBeGreaterThan(0.9 * N);
    expect(sameWhereStable).toBeGreaterThanOrEqual(0.99 * stable);
    expect(same).toBeGreaterThanOrEqual(0.95 * N);

    // voltage traces from the GPU's trace ring against the CPU engine's traces, sample by sample
    const traceReport: Record<string, number>[] = [];
    for (const [r, row] of rows.entries()) {
      const gpu = await page.evaluate((k: number) => (window.__ionsweep!.readTraceRow as (row: number) => Promise<{ values: number[]; firstSample: number; width: number }>)(k), row);
      const reference = cpu.traces!.series(r, 'V');
      expect(gpu.values.length / gpu.width).toBe(reference.length);
      const diffs = reference.map((v, s) => Math.abs(gpu.values[s * gpu.width] - v)).sort((a, b) => a - b);
      const median = diffs[Math.floor(diffs.length / 2)], within1mV = diffs.filter((d) => d < 1).length / diffs.length;
      traceReport.push({ row, samples: diffs.length, median, p99: diffs[Math.floor(0.99 * diffs.length)], within1mV });
      expect(median).toBeLessThan(0.01);
      expect(within1mV).toBeGreaterThan(0.97);
    }
    report('demo-ensemble-agreement', { N, stopAtMs, spikeCountsIdentical: same / N, f32Stable: stable, identicalWhereStable: sameWhereStable, traces: traceReport });

    // pixels: 150 ms of a 2 s window fill the right 7.5 % of every view; the rest is background
    const lines = pixelStats(await elementPixels(page, '#lines'), CANVAS_BACKGROUND);
    const heat = pixelStats(await elementPixels(page, '#heatmap'), CANVAS_BACKGROUND);
    const raster = pixelStats(await elementPixels(page, '#raster'), CANVAS_BACKGROUND);
    expect(lines.byQuarter[3]).toBeGreaterThan(0.01);
    expect(lines.byQuarter[0]).toBeLessThan(0.001);
    expect(heat.byQuarter[3]).toBeGreaterThan(0.2);
    expect(heat.byQuarter[1]).toBeLessThan(0.001);
    expect(raster.byQuarter[3]).toBeGreaterThan(0.002);
    expect(raster.byQuarter[1]).toBe(0);
    expect(heat.colors).toBeGreaterThan(20); // a colour map, not a flat fill
    await saveScreenshot(page, 'ensemble-1024-prinz');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('classifies every neuron as the CPU engine does, draws a full window, and shows a clicked neuron with its gradient', async () => {
    const stopAtMs = 3000;
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html?model=prinz&n=128&dt=0.05&seed=11&speed=0&stopAtMs=${stopAtMs}`);
    expect(await waitReady(page)).toBeNull();
    await waitFor(page, `window.__ionsweep.simMs >= ${stopAtMs}`, 120_000);
    const classes = await page.evaluate(() => (window.__ionsweep!.classifyNow as () => Promise<string[]>)());

    // the CPU engine's maxima, classified over the same window (the page skips a 500 ms transient)
    const { names, N, columns } = await pageColumns(page);
    const info = modelInfo('prinz');
    const cpu = await runCpu({
      program: compile(info.model, { dtMs: 0.05, instanceParams: names }), N, params: columns, durationMs: stopAtMs, discardMs: 500, maximaCapacity: 128,
    }, { threads: 2 });
    const m = cpu.maxima![0];
    let agree = 0;
    const counts: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const { timesMs, valuesMv } = m.of(i);
      const f = classifyActivity({ maximaTimesMs: timesMs, maximaValuesMv: valuesMv, windowStartMs: 500, windowEndMs: stopAtMs, totalMaxima: m.count[i], totalSpikes: m.spikeCount[i] });
      if (f.class === classes[i]) agree++;
      counts[classes[i]] = (counts[classes[i]] ?? 0) + 1;
    }
    report('demo-ensemble-classes', { N, stopAtMs, agreement: agree / N, classes: counts });
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(3); // a varied population
    expect(agree / N).toBeGreaterThanOrEqual(0.9);

    // a full window: every quarter of every view is drawn; the class strip shows several colours
    await new Promise((r) => setTimeout(r, 300));
    const heat = pixelStats(await elementPixels(page, '#heatmap'), CANVAS_BACKGROUND);
    const raster = pixelStats(await elementPixels(page, '#raster'), CANVAS_BACKGROUND);
    for (const q of [0, 1, 2, 3]) {
      expect(heat.byQuarter[q]).toBeGreaterThan(0.5);
      expect(raster.byQuarter[q]).toBeGreaterThan(0.003);
    }
    expect(raster.colors).toBeGreaterThanOrEqual(3);

    // click the population image on row 37: the detail panel follows, with the gradient of that neuron
    const target = 37;
    const box = (await (await page.$('#heatmap'))!.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.6, box.y + ((target + 0.5) / N) * box.height);
    await waitFor(page, `window.__ionsweep.selected === ${target} && window.__ionsweep.detail && window.__ionsweep.detail.instance === ${target}`, 60_000);
    const detail = await page.evaluate(() => window.__ionsweep!.detail as { params: Record<string, number>; job: { durationMs: number; discardMs: number; tangents: string[] }; observed: { name: string; mean: number; meanTangent: number[] }[] });
    for (const name of names) expect(detail.params[name]).toBe(columns[name][target]);
    const ref = await runCpu({
      program: compile(info.model, { dtMs: 0.05, instanceParams: names, tangents: detail.job.tangents }), N: 1,
      params: Object.fromEntries(names.map((n) => [n, [columns[n][target]]])), durationMs: detail.job.durationMs, discardMs: detail.job.discardMs,
    }, { threads: 1 });
    for (const o of detail.observed) {
      const r = ref.observed.find((x) => x.name === o.name)!;
      expect(o.mean).toBeCloseTo(r.mean[0], 10);
      o.meanTangent.forEach((g, j) => expect(Math.abs(g - r.meanTangent[j][0])).toBeLessThanOrEqual(1e-9 * (Math.abs(r.meanTangent[j][0]) + Math.abs(r.mean[0]))));
    }
    expect(await page.$eval('#detail-title', (el) => el.textContent)).toContain(`#${target}`);
    // the selected neuron's live trace and calcium, drawn from the GPU buffer; the gradient bars
    const v = pixelStats(await elementPixels(page, '#detail-v'), CANVAS_BACKGROUND);
    const ca = pixelStats(await elementPixels(page, '#detail-ca'), CANVAS_BACKGROUND);
    const grad = pixelStats(await elementPixels(page, '#detail-grad'), CANVAS_BACKGROUND);
    expect(v.drawn).toBeGreaterThan(0.005);
    expect(ca.drawn).toBeGreaterThan(0.005);
    expect(grad.drawn).toBeGreaterThan(0.01);
    await saveScreenshot(page, 'ensemble-128-prinz-selected');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says which path it took in a browser without WebGPU', async () => {
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html`, { noWebGpu: true });
    await waitFor(page, 'window.__ionsweep && window.__ionsweep.backend');
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; reason: string });
    expect(backend.kind).not.toBe('webgpu');
    expect(backend.reason).toContain('navigator.gpu is missing');
    expect(await page.$eval('#notices', (el) => el.textContent)).toContain('No WebGPU here');
    expect(errors).toEqual([]);
    await page.close();
  });
});
