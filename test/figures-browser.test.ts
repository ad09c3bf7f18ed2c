/**
 * The figures drawn in a real browser (headless Chromium): each SVG is rasterised, its axes are read
 * back from the tick labels Chromium laid out (as a reader would read them), and the pixels must show
 * the data where those axes put it: spikes on the raster at the simulated spike times, the voltage
 * line through its peak, bars as tall as the class fractions, dots of each class's colour at their
 * conductances, the landscape's minimum, masked cells, colour bar and arrows (hollow amber heads
 * where the gradient is ill conditioned, white filled ones elsewhere), and a fit's cost lines.
 * Positions are checked within 3 px (marks are 1-2 px lines; labels are centred on their ticks to
 * within a pixel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column } from '../src/analysis/features.ts';
import { renderSvg } from '../src/io/plot/figure.ts';
import { fitSpec } from '../src/io/plot/fit-figure.ts';
import { landscapeSpec, MASKED_CELL, TRUSTED_ARROW, UNTRUSTED_ARROW } from '../src/io/plot/landscape-figure.ts';
import { simulationSpec } from '../src/io/plot/simulation-figure.ts';
import { CLASS_COLOURS, sweepSpec } from '../src/io/plot/sweep-figure.ts';
import type { FitResult } from '../src/jobs/fit/run.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { colourNear, countColour, FigureBrowser, readAxis, rgb, type RenderedFigure, type TextBox } from './figure-browser.ts';
import { browserAvailable } from '../demos/testing/browser.ts';

const enabled = browserAvailable();
const LINE = rgb('#4c78a8');
const numeric = (t: TextBox) => /^[−–-]?[\d.,]+%?$/.test(t.text.trim());
const find = (f: RenderedFigure, text: string | RegExp) => {
  const box = f.texts.find((t) => (typeof text === 'string' ? t.text === text : text.test(t.text)));
  if (!box) throw new Error(`no text ${text} in the figure: ${f.texts.map((t) => t.text).join(' | ')}`);
  return box;
};
/** The bottom-most row of numeric tick labels (the last panel's x axis). */
const bottomRow = (f: RenderedFigure) => {
  const y = Math.max(...f.texts.filter((t) => t.angle === 0 && numeric(t)).map((t) => t.y));
  return (t: TextBox) => Math.abs(t.y - y) < 3;
};
/** Tick labels left of a panel whose rotated axis title is `title`, within ±half its height of the title. */
const leftOf = (title: TextBox, half: number) => (t: TextBox) => t.x < title.x + 80 && t.x > title.x && Math.abs(t.y - title.y) <= half + 1;

describe.skipIf(!enabled)('figures in Chromium', () => {
  let browser: FigureBrowser;
  beforeAll(async () => {
    browser = (await FigureBrowser.open())!;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('simulate --plot: the voltage line passes through the trace, the raster has a tick at each spike time and none between', async () => {
    const r = await simulate({ model: 'hh', durationMs: 60, currentUAPerCm2: 10, traceEveryMs: 0.05, engine: 'cpu' });
    expect(r.spikeTimesMs.length).toBeGreaterThanOrEqual(3);
    const f = await browser.render(await renderSvg(simulationSpec(r)), 'simulation');
    find(f, 'time (ms)');
    find(f, /^spikes \(upward crossings of 0 mV\): hh \d+$/);
    const x = readAxis(f.texts, 'x', bottomRow(f));
    const vTitle = find(f, 'membrane potential (mV)');
    const yV = readAxis(f.texts, 'y', leftOf(vTitle, 100));
    // the raster row: the band label 'hh' on the left
    const row = f.texts.find((t) => t.text === 'hh' && t.angle === 0)!;
    const dark = [34, 34, 34]; // the tick colour, #222, anti-aliased: any channel up to 144 counts
    for (const t of r.spikeTimesMs) expect(colourNear(f.image, x.toPixel(t), row.y, dark, 2, 110), `tick at ${t} ms`).toBe(true);
    const between = (r.spikeTimesMs[0] + r.spikeTimesMs[1]) / 2;
    expect(colourNear(f.image, x.toPixel(between), row.y, dark, 2, 110), 'no tick between spikes').toBe(false);
    // the line through the voltage peak and through the first sample, and not far below the trace there
    const v = r.trace!.series.VMv, times = r.trace!.timesMs;
    const peak = v.indexOf(Math.max(...v));
    expect(colourNear(f.image, x.toPixel(times[peak]), yV.toPixel(v[peak]), LINE, 3)).toBe(true);
    expect(colourNear(f.image, x.toPixel(times[0]) + 2, yV.toPixel(v[0]), LINE, 3)).toBe(true);
    expect(colourNear(f.image, x.toPixel(times[peak]), yV.toPixel(Math.min(...v) - 8), LINE, 2)).toBe(false);
  }, 60_000);

  it('sweep figure: bars as tall as the class fractions, every class in its colour, dots at their conductances', async () => {
    // 200 models: tonic ones (20 %) all at high gNa and low gKd, the rest elsewhere
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const classes: string[] = [], gNa: number[] = [], gKd: number[] = [], period: number[] = [];
    for (let i = 0; i < 200; i++) {
      const c = i < 20 ? 'silent' : i < 60 ? 'tonic' : i < 180 ? 'bursting' : 'irregular';
      classes.push(c);
      gNa.push(c === 'tonic' ? 420 + 70 * rand() : 300 * rand());
      gKd.push(c === 'tonic' ? 20 * rand() : 40 + 80 * rand());
      period.push(c === 'bursting' ? 500 + 100 * rand() : NaN);
    }
    const columns: Column[] = [
      { name: 'index', type: 'INT32', data: Int32Array.from(classes, (_, i) => i) },
      { name: 'gNa', type: 'DOUBLE', data: Float64Array.from(gNa) },
      { name: 'gKd', type: 'DOUBLE', data: Float64Array.from(gKd) },
      { name: 'class', type: 'STRING', data: classes },
      { name: 'burstPeriodMs', type: 'DOUBLE', data: Float64Array.from(period) },
    ];
    const f = await browser.render(await renderSvg(sweepSpec(columns)), 'sweep');
    find(f, 'burst period (ms)');
    find(f, 'burst periods of 120 bursters');
    for (const c of ['silent', 'tonic', 'bursting', 'irregular']) expect(countColour(f.image, rgb(CLASS_COLOURS[c]), 12), c).toBeGreaterThan(20);
    // bar heights on the fraction axis (labels 0%…100%)
    const yFraction = readAxis(f.texts, 'y', leftOf(find(f, 'fraction of models'), 100));
    for (const [c, fraction] of [['tonic', 0.2], ['bursting', 0.6], ['silent', 0.1]] as const) {
      const bar = f.texts.find((t) => t.text === c && t.angle === 0 && t.y > yFraction.toPixel(0))!;
      const top = yFraction.toPixel(fraction);
      expect(colourNear(f.image, bar.x, top + 3, rgb(CLASS_COLOURS[c]), 0, 12), `${c} bar reaches ${fraction}`).toBe(true);
      expect(colourNear(f.image, bar.x, top - 3, rgb(CLASS_COLOURS[c]), 0, 12), `${c} bar ends at ${fraction}`).toBe(false);
    }
    // the scatter: gNa across the bottom, gKd up its left side
    const xNa = readAxis(f.texts, 'x', bottomRow(f));
    const kdTitle = find(f, 'gKd (mS/cm²)');
    const yKd = readAxis(f.texts, 'y', leftOf(kdTitle, 85));
    for (let i = 20; i < 60; i++) expect(colourNear(f.image, xNa.toPixel(gNa[i]), yKd.toPixel(gKd[i]), rgb(CLASS_COLOURS.tonic), 3, 45), `tonic model ${i}`).toBe(true);
    // no tonic dot where there are none (gNa < 300, gKd > 40)
    const box = [xNa.toPixel(20), yKd.toPixel(115), xNa.toPixel(280), yKd.toPixel(45)].map(Math.round);
    expect(countColour(f.image, rgb(CLASS_COLOURS.tonic), 20, box)).toBe(0);
    expect(countColour(f.image, rgb(CLASS_COLOURS.bursting), 40, box)).toBeGreaterThan(50);
  }, 60_000);

  it('landscape figure: minimum, masked cell, colour bar, and hollow amber arrows exactly where the gradient is ill conditioned', async () => {
    const nx = 12, ny = 9;
    const lane = (param: string, log: boolean) => ({ key: `${log ? 'log:' : ''}${param}`, param, log });
    const xs = Float64Array.from({ length: nx }, (_, k) => Math.log(2) + (k * Math.log(9)) / (nx - 1));
    const ys = Float64Array.from({ length: ny }, (_, k) => 10 + 10 * k);
    const cost = new Float64Array(nx * ny), gx = new Float64Array(nx * ny), gy = new Float64Array(nx * ny), trusted = new Uint8Array(nx * ny).fill(1);
    for (let iy = 0; iy < ny; iy++) {
      for (let ix = 0; ix < nx; ix++) {
        const k = iy * nx + ix, a = xs[ix] - Math.log(7), b = (ys[iy] - 50) / 40;
        [cost[k], gx[k], gy[k]] = [a * a + b * b + 1e-3, 2 * a, b / 20];
        if (ix >= 9) trusted[k] = 0;
      }
    }
    cost[2] = NaN; // ix 2, iy 0: diverged
    const input = {
      x: { lane: lane('gCaS', true), coords: xs, values: xs.map(Math.exp) }, y: { lane: lane('gKCa', false), coords: ys, values: ys },
      cost, gradient: [gx, gy] as [Float64Array, Float64Array], conditioning: { relative: new Float64Array(nx * ny), trusted, method: 'f64 roundoff probes' as const },
    };
    const spec = landscapeSpec(input);
    const f = await browser.render(await renderSvg(spec), 'landscape');
    find(f, 'log10 cost');
    find(f, /27 of 108 arrows ill conditioned \(hollow\)/);
    const x = readAxis(f.texts, 'x', (t) => t.y > find(f, 'gCaS (mS/cm²), log scale').y - 30 && t.y < find(f, 'gCaS (mS/cm²), log scale').y - 5, true);
    const y = readAxis(f.texts, 'y', leftOf(find(f, 'gKCa (mS/cm²)'), 200));
    // the grid minimum (gCaS = 2·9^(5/11)... the grid point nearest 7, gKCa = 50) carries the red cross
    const best = cost.indexOf(Math.min(...cost.filter(Number.isFinite)));
    expect(colourNear(f.image, x.toPixel(Math.exp(xs[best % nx])), y.toPixel(ys[Math.floor(best / nx)]), rgb('#e4572e'), 3, 40)).toBe(true);
    // the diverged cell is grey, away from its arrow (a third of a cell from its centre)
    const cellW = x.toPixel(Math.exp(xs[3])) - x.toPixel(Math.exp(xs[2])), cellH = y.toPixel(ys[0]) - y.toPixel(ys[1]);
    expect(colourNear(f.image, x.toPixel(Math.exp(xs[2])) - cellW / 3, y.toPixel(ys[0]) + cellH / 3, rgb(MASKED_CELL), 1, 10)).toBe(true);
    // the colour bar and the heatmap span viridis, dark purple to yellow
    expect(countColour(f.image, rgb('#440154'), 25)).toBeGreaterThan(20);
    expect(countColour(f.image, rgb('#fde725'), 25)).toBeGreaterThan(20);
    // arrow heads: filled white where trusted, hollow amber where not, nowhere else amber inside the plot
    const heads = (spec as unknown as { layer: { mark: { type: string; shape?: string }; data: { values: { x2: number; y2: number; gradient: string }[] } }[] }).layer.find((l) => l.mark.shape === 'triangle-up')!.data.values;
    expect(heads.filter((h) => h.gradient !== 'trusted')).toHaveLength(27);
    for (const h of heads) {
      const [px, py] = [x.toPixel(h.x2), y.toPixel(h.y2)];
      if (h.gradient === 'trusted') {
        expect(colourNear(f.image, px, py, rgb(TRUSTED_ARROW), 1, 30), `white head at ${h.x2}, ${h.y2}`).toBe(true);
        expect(colourNear(f.image, px, py, rgb(UNTRUSTED_ARROW), 5, 40)).toBe(false);
      } else {
        expect(colourNear(f.image, px, py, rgb(UNTRUSTED_ARROW), 6, 40), `amber head at ${h.x2}, ${h.y2}`).toBe(true);
        expect(colourNear(f.image, px, py, rgb(TRUSTED_ARROW), 0, 30), `hollow head at ${h.x2}, ${h.y2}`).toBe(false);
      }
    }
    const plotBox = [x.toPixel(Math.exp(xs[0])), y.toPixel(ys[ny - 1]), x.toPixel(Math.exp((xs[8] + xs[9]) / 2)), y.toPixel(ys[0])].map(Math.round);
    expect(countColour(f.image, rgb(UNTRUSTED_ARROW), 40, plotBox), 'amber only on the ill-conditioned side').toBe(0);
  }, 60_000);

  it('fit figure: each best start\'s cost line through its costs on the log axis, the others grey, the target trace in black', async () => {
    const costs = (c0: number, rate: number, n: number) => Array.from({ length: n }, (_, k) => c0 * Math.exp(-rate * k));
    const starts = [
      { start: 0, bestCost: 0.01, costs: costs(10, Math.log(1000) / 9, 10), gradientTrusted: true },
      { start: 1, bestCost: 0.5, costs: costs(5, Math.log(10) / 7, 8), gradientTrusted: true },
      { start: 2, bestCost: 1, costs: costs(3, Math.log(3) / 5, 6), gradientTrusted: false },
      ...Array.from({ length: 5 }, (_, k) => ({ start: 3 + k, bestCost: 2 + k, costs: costs(4 + k, 0.05, 10), gradientTrusted: true })),
    ].map((s) => ({ ...s, bestCost: Math.min(...s.costs) }));
    const timesMs = Float64Array.from({ length: 400 }, (_, k) => k * 5);
    const wave = (phase: number) => Float64Array.from(timesMs, (t) => -50 + 20 * Math.sin(t / 100 + phase));
    const r = { starts, parameters: ['gNa', 'gKd'] } as unknown as FitResult;
    const traces = { timesMs, units: { V: 'mV' }, runs: [{ label: 'target', series: { V: wave(0) } }, { label: `start 0 (cost ${Number(starts[0].bestCost.toPrecision(3))})`, series: { V: wave(0.3) } }] };
    const f = await browser.render(await renderSvg(fitSpec(r, traces, { highlight: 2 })), 'fit');
    find(f, 'iteration');
    find(f, 'cost (log scale)');
    const costTitle = find(f, 'cost (log scale)');
    const yCost = readAxis(f.texts, 'y', leftOf(costTitle, 110), true);
    const iterationRow = f.texts.filter((t) => t.angle === 0 && numeric(t) && t.y > costTitle.y + 110 && t.y < costTitle.y + 135 && t.x > costTitle.x + 50);
    const xIt = readAxis(iterationRow, 'x', () => true);
    starts[0].costs.forEach((c, k) => expect(colourNear(f.image, xIt.toPixel(k), yCost.toPixel(c), LINE, 3), `start 0, iteration ${k}`).toBe(true));
    expect(countColour(f.image, rgb('#c4c4c4'), 10)).toBeGreaterThan(50);
    // the target trace: black at its samples
    const vTitle = find(f, 'membrane potential (mV)');
    const yV = readAxis(f.texts, 'y', leftOf(vTitle, 75));
    const xT = readAxis(f.texts, 'x', bottomRow(f));
    for (const k of [40, 150, 260]) expect(colourNear(f.image, xT.toPixel(timesMs[k]), yV.toPixel(traces.runs[0].series.V[k]), [0, 0, 0], 3, 60), `target at ${timesMs[k]} ms`).toBe(true);
  }, 60_000);
});
