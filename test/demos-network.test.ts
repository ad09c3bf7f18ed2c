/**
 * The network explorer in a real browser (headless Chromium, WebGPU on SwiftShader): it loads, runs,
 * draws (pixels read back from the screen), and its numbers agree with the f64 CPU engine for the same
 * networks: the centre network's voltage traces read from the GPU's trace ring, its class, period and
 * features; the class of every network of a neighbourhood (same parameters, same start state). The
 * frame rate with a neighbourhood of 1,024 networks is measured for a few seconds and printed, never
 * asserted (it depends on the machine's load); demos/testing/network-fps.ts measures it at length.
 * Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { PYLORIC_FEATURES } from '../src/analysis/network.ts';
import { PYLORIC_SYNAPSE_PARAMS } from '../src/channels/pyloric.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { isolatedStart, withColdStart } from '../src/jobs/isolated-start.ts';
import { networkResults } from '../src/jobs/network-results.ts';
import { CELL_COLORS, NETWORK_COLORS, ROLES, networkModel, networkProgram } from '../demos/network/network.ts';
import type { Image } from '../demos/testing/png.ts';
import { pixelStats } from '../demos/testing/png.ts';
import {
  CANVAS_BACKGROUND, browserAvailable, buildAndServe, elementPixels, launchBrowser, openPage, report, saveScreenshot, waitFor, waitReady, type DemoSite,
} from '../demos/testing/browser.ts';

const enabled = browserAvailable();

const rgb = (hex: string): [number, number, number] => {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
};

/** Pixels within `tol` (sum of channel differences) of a colour, and their mean x as a fraction of the width. */
function colourPixels(img: Image, colour: [number, number, number], tol = 30): { count: number; meanX: number } {
  let count = 0, sumX = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const k = 4 * (y * img.width + x);
      if (Math.abs(img.data[k] - colour[0]) + Math.abs(img.data[k + 1] - colour[1]) + Math.abs(img.data[k + 2] - colour[2]) <= tol) {
        count++;
        sumX += x / img.width;
      }
    }
  }
  return { count, meanX: count ? sumX / count : NaN };
}

interface Summary {
  class: string;
  periodMs: number | null;
  reason: string;
  features: Record<string, number | null> | null;
  windowMs: [number, number];
  cells: string[];
}

describe.skipIf(!enabled)('network explorer in Chromium (WebGPU on SwiftShader)', () => {
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

  // Prinz 2004's example j: pyloric-like in this model (README), a stable limit cycle, so f32 and f64 agree
  const cells = ['ABPD4', 'LP2', 'PY1'];
  const synapsesNs = [3, 100, 10, 1, 10, 3, 10];
  const dtMs = 0.025;

  it('runs a network, draws its traces and phases, and matches the CPU engine (traces, class, period, 15 features)', async () => {
    const stopAtMs = 10_000;
    const { page, errors } = await openPage(browser, `${site.url}network.html?cells=${cells}&syn=${synapsesNs}&nb=0&speed=0&budget=100&stopAtMs=${stopAtMs}`);
    expect(await waitReady(page)).toBeNull();
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; adapter: string });
    expect(backend.kind).toBe('webgpu');
    expect(await page.$eval('#status', (el) => el.textContent)).toContain('WebGPU');
    await waitFor(page, `window.__ionsweep.simMs >= ${stopAtMs}`, 150_000);
    expect(await page.evaluate(() => window.__ionsweep!.simMs as number)).toBeCloseTo(stopAtMs, 6);
    const gpu = await page.evaluate(() => window.__ionsweep!.classifyNow() as Promise<Summary>);

    // the same network, f64 CPU engine, maxima over the page's window
    const [from, to] = gpu.windowMs;
    expect([from, to]).toEqual([2000, stopAtMs]);
    const traceEveryMs = await page.evaluate(() => window.__ionsweep!.traceEveryMs() as number);
    const program = networkProgram(networkModel(cells), dtMs);
    const params = Object.fromEntries(PYLORIC_SYNAPSE_PARAMS.map((name, q) => [name, Float64Array.of(synapsesNs[q])]));
    const cpu = await runCpu({ program, N: 1, params, durationMs: stopAtMs, discardMs: from, maximaCapacity: 512, traceEveryMs, traceInstances: [0] }, { threads: 1 });
    const ref = networkResults(cpu, [...ROLES], 0).network;

    // class and period: a stable limit cycle, so f32 rounding moves the period by a few steps at most
    // (1e-4 of 1.84 s is 7 steps of 0.025 ms; the classifier itself tolerates 0.5 % between cells)
    expect(gpu.class).toBe(ref.class);
    expect(gpu.class).toBe('pyloric-like');
    expect(Math.abs(gpu.periodMs! - ref.periodMs!)).toBeLessThan(1e-4 * ref.periodMs!);
    // features are differences of burst onsets and ends (spike times): f32 shifts a spike by a fraction
    // of a millisecond, so 2 ms on durations and delays, 2 ms / period on phases and duty cycles
    const featureReport: Record<string, [number, number]> = {};
    for (const [name] of PYLORIC_FEATURES) {
      const g = gpu.features![name]!, r = ref.features[name]!;
      featureReport[name] = [g, r];
      expect(Math.abs(g - r)).toBeLessThan(name.endsWith('Ms') ? 2 : 2 / ref.periodMs!);
    }

    // traces from the GPU's trace ring (the last 5 s) against the CPU engine's, sample by sample:
    // the same rhythm, so differences are confined to spike flanks a fraction of a ms apart
    const trace = await page.evaluate(() => window.__ionsweep!.readTrace() as Promise<{ values: number[]; firstSample: number; width: number }>);
    const traceReport: Record<string, number> = {};
    for (const [k, role] of ROLES.entries()) {
      // the CPU engine traces the window after its discard: sample j of the page is taken at (j + 1)·Δ
      const series = cpu.traces!.series(0, `${role}.V`), times = cpu.traces!.timesMs;
      const samples = trace.values.length / trace.width;
      const offset = Math.round(times[0] / traceEveryMs) - 1;
      expect(trace.firstSample + samples).toBe(offset + series.length);
      expect(times[trace.firstSample - offset]).toBeCloseTo((trace.firstSample + 1) * traceEveryMs, 6);
      const diffs = Array.from({ length: samples }, (_, s) => Math.abs(trace.values[s * trace.width + 2 * k] - series[trace.firstSample + s - offset])).sort((a, b) => a - b);
      const median = diffs[Math.floor(samples / 2)], p95 = diffs[Math.floor(0.95 * samples)];
      traceReport[`${role} median`] = median;
      traceReport[`${role} p95`] = p95;
      expect(median).toBeLessThan(0.1);
      expect(p95).toBeLessThan(2);
    }
    report('demo-network-agreement', { cells, synapsesNs, window: [from, to], class: [gpu.class, ref.class], periodMs: [gpu.periodMs, ref.periodMs], features: featureReport, traces: traceReport });

    // the page shows the class and the features
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.$eval('#network-class', (el) => el.textContent)).toContain('pyloric-like');
    const shown = await page.$eval('tr[data-feature="periodMs"]', (el) => el.textContent ?? '');
    expect(shown).toContain(String(Number(gpu.periodMs!.toPrecision(4))));

    // pixels: every cell's trace is drawn in its colour, across the whole (full) window
    const traces = await elementPixels(page, '#traces');
    const stats = pixelStats(traces, CANVAS_BACKGROUND);
    for (const q of [0, 1, 2, 3]) expect(stats.byQuarter[q]).toBeGreaterThan(0.02);
    for (const role of ROLES) expect(colourPixels(traces, rgb(CELL_COLORS[role])).count).toBeGreaterThan(200);
    // the phase view folds every spike on the network period from an AB/PD onset: AB/PD's spikes lie
    // near phase 0 (its duty cycle), LP's around its start phase, PY's later; where the CPU engine says
    const phases = await elementPixels(page, '#phases');
    const ab = colourPixels(phases, rgb(CELL_COLORS.ABPD)), lp = colourPixels(phases, rgb(CELL_COLORS.LP)), py = colourPixels(phases, rgb(CELL_COLORS.PY));
    const f = ref.features;
    const centre = (start: number, duty: number) => start + duty / 2;
    expect(ab.count).toBeGreaterThan(50);
    expect(Math.abs(ab.meanX - centre(0, f.abpdDutyCycle!))).toBeLessThan(0.08);
    expect(Math.abs(lp.meanX - centre(f.lpStartPhase!, f.lpDutyCycle!))).toBeLessThan(0.08);
    expect(Math.abs(py.meanX - centre(f.pyStartPhase!, f.pyDutyCycle!))).toBeLessThan(0.08);
    await saveScreenshot(page, 'network-explorer-j');
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('classifies a neighbourhood of networks as the CPU engine does, draws it, and follows a slider', async () => {
    // 8 networks at dt 0.05 ms (a software GPU runs a few networks little faster than many), 10 s
    // from the cold start: the first 8 of this draw are pyloric-like, periodic and non-periodic
    const N = 8, nbStopAtMs = 10_000, nbDtMs = 0.05;
    const { page, errors } = await openPage(browser, `${site.url}network.html?cells=${cells}&syn=${synapsesNs}&dt=${nbDtMs}&nb=${N}&spread=3&seed=5&speed=0&stopAtMs=0&budget=100&nbStopAtMs=${nbStopAtMs}`);
    expect(await waitReady(page)).toBeNull();
    await waitFor(page, `window.__ionsweep.nbSimMs >= ${nbStopAtMs}`, 220_000);
    const gpu = await page.evaluate(() => window.__ionsweep!.classifyNeighbourhoodNow() as Promise<Summary[]>);
    const nb = await page.evaluate(() => window.__ionsweep!.neighbourhood() as { N: number; start: Record<string, number>; params: number[] });
    expect(nb.N).toBe(N);

    // the same networks (the page's f32 strengths) from the same start state, on the CPU engine
    const model = withColdStart(networkModel(cells), new Map(Object.entries(nb.start)));
    const program = networkProgram(model, nbDtMs);
    const params = Object.fromEntries(PYLORIC_SYNAPSE_PARAMS.map((name, q) => [name, Float64Array.from(nb.params.slice(q * N, (q + 1) * N))]));
    const [from, to] = gpu[0].windowMs;
    const spec = { program, N, params, durationMs: to, discardMs: from, maximaCapacity: 512 };
    const f64 = await runCpu(spec, { threads: 2 });
    const f32 = await runCpu(spec, { threads: 2, precision: 'f32' });
    let same = 0, stable = 0, sameWhereStable = 0;
    const classes: Record<string, number> = {};
    const rows: string[] = [];
    for (let i = 0; i < N; i++) {
      const ref = networkResults(f64, [...ROLES], i).network.class;
      const ref32 = networkResults(f32, [...ROLES], i).network.class;
      classes[ref] = (classes[ref] ?? 0) + 1;
      if (gpu[i].class === ref) same++;
      if (ref32 === ref) {
        stable++;
        if (gpu[i].class === ref) sameWhereStable++;
      }
      rows.push(`${i}: gpu ${gpu[i].class}, f64 ${ref}, f32 ${ref32}`);
    }
    report('demo-network-neighbourhood', { N, window: [from, to], classesF64: classes, identical: same / N, f32Stable: stable, identicalWhereStable: sameWhereStable, rows });
    // a varied neighbourhood, so the comparison means something
    expect(Object.keys(classes).length).toBeGreaterThanOrEqual(2);
    // f32 rounding may tip a network at a class boundary (the f32 CPU engine shows which are near one);
    // wherever it does not, the GPU must agree with f64
    expect(stable).toBeGreaterThanOrEqual(0.75 * N);
    expect(sameWhereStable).toBeGreaterThanOrEqual(stable - 1);
    expect(same).toBeGreaterThanOrEqual(0.8 * N);

    // the legend counts the page's classes; the strips draw the networks in their class colours and
    // shade columns with pyloric(-like) networks
    await new Promise((r) => setTimeout(r, 400));
    for (const c of new Set(gpu.map((a) => a.class))) {
      const n = gpu.filter((a) => a.class === c).length;
      expect(await page.$eval(`#nb-legend [data-class="${c}"] b`, (el) => el.textContent)).toBe(String(n));
    }
    const strips = await elementPixels(page, '#nb');
    for (const c of new Set(gpu.map((a) => a.class))) expect(colourPixels(strips, rgb(NETWORK_COLORS[c as keyof typeof NETWORK_COLORS]), 12).count).toBeGreaterThan(0);
    if (gpu.some((a) => a.class === 'pyloric' || a.class === 'pyloric-like')) expect(pixelStats(strips, CANVAS_BACKGROUND, 6).drawn).toBeGreaterThan(0.05);
    await saveScreenshot(page, 'network-explorer-neighbourhood');

    // a slider moves the running network's synapse and restarts the neighbourhood around it
    await page.$eval('#syn-1', (el) => {
      (el as HTMLInputElement).value = '200';
      el.dispatchEvent(new Event('input'));
    });
    await waitFor(page, 'window.__ionsweep.neighbourhood() && window.__ionsweep.neighbourhood().centreNs[1] === 10', 20_000);
    expect((await page.evaluate(() => window.__ionsweep!.config as { synapsesNs: number[] })).synapsesNs[1]).toBe(10);
    expect(await page.$eval('#syn-1-value', (el) => (el as HTMLInputElement).value)).toBe('10');
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('draws with a neighbourhood of 1,024 networks while both sessions advance (frame rate printed, not asserted)', async () => {
    const { page, errors } = await openPage(browser, `${site.url}network.html?nb=1024`);
    expect(await waitReady(page)).toBeNull();
    await new Promise((r) => setTimeout(r, 3000));
    const m = await page.evaluate(() => (window.__ionsweep!.measure as (ms: number) => Promise<Record<string, number>>)(5000));
    // the frame rate depends on the machine and its load: printed for the README, never asserted
    report('demo-network-fps-1024', m);
    expect(m.frames).toBeGreaterThan(0);
    // frames do not wait for the steps, but the steps still run: both sessions advanced meanwhile
    expect(m.simSecondsPerWallSecond).toBeGreaterThan(0);
    expect(m.neighbourhoodNetworkStepsPerS).toBeGreaterThan(0);
    expect(m.neighbourhood).toBe(1024);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('starts from the cells\' isolated states with init=isolated:MS, as the f64 engine computes them', async () => {
    const isolatedMs = 2000;
    const { page, errors } = await openPage(browser, `${site.url}network.html?cells=${cells}&syn=${synapsesNs}&nb=0&init=isolated:${isolatedMs}`);
    expect(await waitReady(page)).toBeNull();
    const start = await page.evaluate(() => (window.__ionsweep!.startValues as () => Record<string, number>)());
    expect(await page.$eval('#status', (el) => el.textContent)).toContain('2 s alone');
    // the reference: the library's isolated start of the same network (f64 CPU engine, here in Deno)
    const ref = await isolatedStart(networkModel(cells), isolatedMs, { values: {}, dtMs, method: 'exp-euler' });
    const cellStates = ref.states.filter((s) => /^(ABPD|LP|PY)\./.test(s.name));
    expect(cellStates.length).toBeGreaterThanOrEqual(3 * 13);
    let worst = 0;
    for (const s of cellStates) {
      const want = s.init.cold.value;
      expect(start[s.name], s.name).toBeTypeOf('number');
      worst = Math.max(worst, Math.abs(start[s.name] - want) / Math.max(1e-3, Math.abs(want)));
    }
    report('demo-network-isolated-start', { states: cellStates.length, worstRelativeDifference: worst, V: ROLES.map((r) => start[`${r}.V`]) });
    // the same f64 arithmetic in both V8s; 1e-6 leaves room for a last-bit difference in Math.exp growing over 80,000 steps
    expect(worst).toBeLessThan(1e-6);
    // and the start is not the cold one (V = −50 mV in every cell, README)
    expect(ROLES.some((r) => Math.abs(start[`${r}.V`] + 50) > 1)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('says which path it took in a browser without WebGPU', async () => {
    const { page, errors } = await openPage(browser, `${site.url}network.html`, { noWebGpu: true });
    await waitFor(page, 'window.__ionsweep && window.__ionsweep.backend');
    const backend = await page.evaluate(() => window.__ionsweep!.backend as { kind: string; reason: string });
    expect(backend.kind).not.toBe('webgpu');
    expect(backend.reason).toContain('navigator.gpu is missing');
    expect(await page.$eval('#notices', (el) => el.textContent)).toContain('No WebGPU here');
    expect(errors).toEqual([]);
    await page.close();
  });
});
