/**
 * The ensemble explorer in a real browser (headless Chromium, WebGPU on SwiftShader): it loads, runs,
 * draws (pixels read back from the screen, not the DOM), and its numbers agree with the f64 CPU engine
 * for the same neurons: spike counts and voltage traces read from the GPU's own buffers, activity
 * classes, and the gradient shown for a clicked neuron. Frames per second with 1,024 prinz neurons are
 * measured and written to test-output/demo-fps.json (reported, not asserted: timing depends on the
 * machine). Screenshots go to test-output/screenshots/. The amplitude scales are read as a person
 * reads them: the tick labels' positions beside the V and [Ca] traces must put the trace's drawn top
 * at the maximum of the values in the GPU's ring, and the colour bar must give the population image's
 * colours. No wait has a wall-clock limit while the page makes progress (a loaded machine is slower,
 * not wrong): runs are awaited while the simulated time grows (waitWhileProgressing), and each test
 * allows 15 minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { classifyActivity } from '../src/analysis/classify.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { modelInfo } from '../demos/lib/models.ts';
import { pixelStats } from '../demos/testing/png.ts';
import {
  CANVAS_BACKGROUND, browserAvailable, buildAndServe, elementPixels, launchBrowser, openPage, report, saveScreenshot, waitFor, waitReady, waitWhileProgressing, type DemoSite,
} from '../demos/testing/browser.ts';
import type { Image } from '../demos/testing/png.ts';
import { inferno } from '../demos/ensemble/scales.ts';

/** Per test: long enough for a loaded 2-core machine; waits inside fail only when the page stalls. */
const TEST_MS = 900_000;
/** Page start-up (shader compilation on SwiftShader) and worker jobs, which report no progress. */
const START_MS = 600_000;

/** Rows of `img` (top first) holding a pixel within `tolerance` of `colour`. */
function rowsWith(img: Image, colour: readonly number[], tolerance = 40): number[] {
  const rows: number[] = [];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const k = 4 * (y * img.width + x);
      if (Math.max(Math.abs(img.data[k] - colour[0]), Math.abs(img.data[k + 1] - colour[1]), Math.abs(img.data[k + 2] - colour[2])) <= tolerance) {
        rows.push(y);
        break;
      }
    }
  }
  return rows;
}

/**
 * A vertical axis as the page lays it out: the tick labels of `axisSelector` (their data-value and
 * centre) fitted to value → pixel row of the canvas `canvasSelector`.
 */
async function readPageAxis(page: Page, axisSelector: string, canvasSelector: string): Promise<{ toRow: (v: number) => number; values: number[] }> {
  const ticks = await page.evaluate((a: string, c: string) => {
    const top = document.querySelector(c)!.getBoundingClientRect().top;
    return Array.from(document.querySelectorAll(`${a} .tick`)).map((t) => {
      const r = t.getBoundingClientRect();
      return { value: Number((t as HTMLElement).dataset.value), y: r.top + r.height / 2 - top };
    });
  }, axisSelector, canvasSelector);
  if (ticks.length < 2) throw new Error(`${axisSelector}: ${ticks.length} tick labels`);
  const n = ticks.length, mv = ticks.reduce((a, t) => a + t.value, 0) / n, my = ticks.reduce((a, t) => a + t.y, 0) / n;
  const slope = ticks.reduce((a, t) => a + (t.value - mv) * (t.y - my), 0) / ticks.reduce((a, t) => a + (t.value - mv) ** 2, 0);
  return { toRow: (v) => my + (v - mv) * slope, values: ticks.map((t) => t.value) };
}

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
  }, START_MS);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('runs 1,024 prinz neurons, draws them, keeps its frame rate, and matches the CPU engine', async () => {
    const stopAtMs = 150;
    // budget=18: the frame budget of every browser adapter, at which the README's frame rates were measured
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html?model=prinz&n=1024&dt=0.025&seed=3&speed=0&budget=18&stopAtMs=${stopAtMs}`);
    expect(await waitReady(page, START_MS)).toBeNull();
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; adapter: string });
    expect(backend.kind).toBe('webgpu');
    expect(await page.$eval('#status', (el) => el.textContent)).toContain('WebGPU');

    // frame rate while the simulation runs flat out (measured after a second of warm-up)
    await new Promise((r) => setTimeout(r, 1000));
    const fps = await page.evaluate(() => (window.__ionsweep!.measure as (ms: number) => Promise<Record<string, number>>)(5000));
    report('demo-fps', { demo: 'ensemble explorer', model: 'prinz', browser: 'headless Chromium', adapter: backend.adapter, ...fps });
    expect(fps.frames).toBeGreaterThan(0);
    expect(fps.simSecondsPerWallSecond).toBeGreaterThan(0);

    await waitWhileProgressing(page, `window.__ionsweep.simMs >= ${stopAtMs}`, 'window.__ionsweep.simMs');
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
  }, TEST_MS);

  it('classifies every neuron as the CPU engine does, draws a full window, and shows a clicked neuron with its gradient', async () => {
    const stopAtMs = 3000;
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html?model=prinz&n=128&dt=0.05&seed=11&speed=0&stopAtMs=${stopAtMs}`);
    expect(await waitReady(page, START_MS)).toBeNull();
    await waitWhileProgressing(page, `window.__ionsweep.simMs >= ${stopAtMs}`, 'window.__ionsweep.simMs');
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
    await waitFor(page, `window.__ionsweep.selected === ${target} && window.__ionsweep.detail && window.__ionsweep.detail.instance === ${target}`, START_MS);
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

    // amplitude scales: the drawn top of the selected neuron's V and [Ca] sits where the tick labels
    // put the largest value in its ring (the trace is drawn as a min-max envelope of those values);
    // within 4 px: two device pixels, as a software adapter draws at half resolution, scaled up smoothly
    await waitFor(page, 'window.__ionsweep.caAxis !== null', START_MS);
    const ring = await page.evaluate((k: number) => (window.__ionsweep!.readTraceRow as (row: number) => Promise<{ values: number[]; width: number }>)(k), target);
    const series = (obs: number) => ring.values.filter((_, j) => j % ring.width === obs);
    const vAxis = await readPageAxis(page, '#detail-v-axis', '#detail-v');
    expect(vAxis.values).toEqual([40, 0, -40, -80]);
    const vRows = rowsWith(await elementPixels(page, '#detail-v'), [77, 255, 153]);
    expect(Math.abs(vRows[0] - vAxis.toRow(Math.max(...series(0)))), `top of the V trace at row ${vRows[0]}`).toBeLessThanOrEqual(4);
    expect(Math.abs(vRows[vRows.length - 1] - vAxis.toRow(Math.min(...series(0)))), 'bottom of the V trace').toBeLessThanOrEqual(4);
    const caAxis = await readPageAxis(page, '#detail-ca-axis', '#detail-ca');
    expect(caAxis.values.length).toBeGreaterThanOrEqual(2);
    const caRows = rowsWith(await elementPixels(page, '#detail-ca'), [247, 150, 31]);
    expect(Math.abs(caRows[0] - caAxis.toRow(Math.max(...series(1)))), `top of the [Ca] trace at row ${caRows[0]}`).toBeLessThanOrEqual(4);
    expect(Math.abs(caRows[caRows.length - 1] - caAxis.toRow(Math.min(...series(1)))), 'bottom of the [Ca] trace').toBeLessThanOrEqual(4);

    // the colour bar gives the population image's colours: the latest sample of a row, looked up on
    // the bar at its value, matches the image's rightmost pixels on that row
    const bar = await elementPixels(page, '#heatmap-bar');
    const barTicks = await page.evaluate(() => Array.from(document.querySelectorAll('#heatmap-bar-ticks .tick')).map((t) => (t as HTMLElement).textContent));
    expect(barTicks).toEqual(['−80', '−60', '−40', '−20', '0', '20', '40']);
    const heatImg = await elementPixels(page, '#heatmap');
    const barColour = (v: number) => {
      const k = 4 * Math.min(bar.width - 1, Math.max(0, Math.round(((v + 80) / 120) * bar.width - 0.5)));
      return [bar.data[k], bar.data[k + 1], bar.data[k + 2]];
    };
    for (const row of [3, 40, 90, 127]) {
      // the rightmost pixel shows one of the last samples (which one depends on the pixel grid)
      const t = await page.evaluate((k: number) => (window.__ionsweep!.readTraceRow as (row: number) => Promise<{ values: number[]; width: number }>)(k), row);
      const last = Array.from({ length: 20 }, (_, j) => t.values[t.values.length - (j + 1) * t.width]);
      const y = Math.floor(((row + 0.5) / N) * heatImg.height), k = 4 * (y * heatImg.width + heatImg.width - 3);
      const shown = [heatImg.data[k], heatImg.data[k + 1], heatImg.data[k + 2]];
      const distance = Math.min(...last.map((v) => Math.max(...barColour(v).map((c, j) => Math.abs(c - shown[j])))));
      expect(distance, `row ${row}: image ${shown}; bar at its last values ${last.slice(0, 3).map((v) => `${v.toFixed(1)} mV ${barColour(v)} (inferno ${inferno((v + 80) / 120)})`).join(', ')}`).toBeLessThanOrEqual(24);
    }
    await saveScreenshot(page, 'ensemble-128-prinz-selected');

    // the header and the detail list read one classification, the live run's (the legend's): for the
    // clicked neuron, and for the first neuron whose class over 1–3 s (the window of the f64 re-run,
    // whose class the list used to show beside the header's) differs from the live one
    const classOver1to3s = (i: number) => {
      const { timesMs, valuesMv } = m.of(i);
      const keep = timesMs.map((t, k) => (t >= 1000 ? k : -1)).filter((k) => k >= 0);
      return classifyActivity({ maximaTimesMs: keep.map((k) => timesMs[k]), maximaValuesMv: keep.map((k) => valuesMv[k]), windowStartMs: 1000, windowEndMs: stopAtMs }).class;
    };
    const differing = Array.from({ length: N }, (_, i) => i).find((i) => classes[i] !== 'diverged' && classOver1to3s(i) !== classes[i]);
    const shownClasses = [];
    for (const i of [target, ...(differing === undefined ? [] : [differing])]) {
      if (i !== target) await page.evaluate((k: number) => (window.__ionsweep!.select as (k: number) => Promise<unknown>)(k), i);
      const header = await page.$eval('#detail-title-class', (el) => el.textContent);
      const listed = await page.$eval('#detail-class', (el) => el.textContent);
      shownClasses.push({ neuron: i, live: classes[i], over1to3s: classOver1to3s(i), header, listed });
      expect(header, `neuron ${i}: the header`).toBe(classes[i]);
      expect(listed, `neuron ${i}: the detail list`).toBe(classes[i]);
    }
    report('demo-ensemble-detail-class', { shown: shownClasses });
    expect(errors).toEqual([]);
    await page.close();
  }, TEST_MS);

  it('on a software GPU starts small enough to classify soon, and says so', async () => {
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html?speed=0`);
    expect(await waitReady(page, START_MS)).toBeNull();
    expect(await page.evaluate(() => window.__ionsweep!.software)).toBe(true); // SwiftShader
    const config = await page.evaluate(() => window.__ionsweep!.config as { N: number; dtMs: number });
    expect(config).toMatchObject({ N: 256, dtMs: 0.05 });
    expect(await page.$eval('#notices', (el) => el.textContent)).toMatch(/Software GPU .*started with 256 neurons at dt 0\.05 ms/);
    const started = Date.now();
    await waitWhileProgressing(page, 'window.__ionsweep.classes.length > 0', 'window.__ionsweep.simMs');
    const classes = await page.evaluate(() => window.__ionsweep!.classes as string[]);
    expect(classes).toHaveLength(256);
    expect(classes.filter((c) => c === 'unknown')).toHaveLength(0);
    // reported, not asserted: how long a user waits here for the first classes
    report('demo-ensemble-first-classes', { N: 256, dtMs: 0.05, wallSeconds: (Date.now() - started) / 1000, classes: Object.fromEntries([...new Set(classes)].map((c) => [c, classes.filter((x) => x === c).length])) });
    expect(errors).toEqual([]);
    await page.close();
  }, TEST_MS);

  it('says which path it took in a browser without WebGPU', async () => {
    const { page, errors } = await openPage(browser, `${site.url}ensemble.html`, { noWebGpu: true });
    await waitFor(page, 'window.__ionsweep && window.__ionsweep.backend', START_MS);
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; reason: string });
    expect(backend.kind).not.toBe('webgpu');
    expect(backend.reason).toContain('navigator.gpu is missing');
    expect(await page.$eval('#notices', (el) => el.textContent)).toContain('No WebGPU here');
    expect(errors).toEqual([]);
    await page.close();
  });
});
