/**
 * Landscape explorer: the cost of a model's mean calcium (squared relative error against a reference
 * cell, docs/models.md §9) over two log-conductances, with gradient arrows; click a point for that model's
 * traces and exact gradient; draw the minimally disruptive curve through it (src/jobs/curve).
 *
 * URL parameters (all optional): model, preset, x, y, spread, grid, duration, backend
 * (webgpu|webgl2|cpu), curveLength. `window.__ionsweep` exposes the state to the browser tests.
 */
import type { GpuJsLike } from '../../src/engine/gpujs/run.ts';
import { backendLabel, chooseBackend, type Backend } from '../lib/backend.ts';
import { CpuWorker } from '../lib/cpu-client.ts';
import type { CpuJob, CpuJobResult, CurveJobResult } from '../lib/cpu-job.ts';
import { exposeHook } from '../lib/hooks.ts';
import { modelInfo, paramLabel, type ModelName } from '../lib/models.ts';
import { COLORS, linePlot, prepare } from '../lib/plot2d.ts';
import { $, backendPills, escapeHtml, fillSelect, fmt, notice, pill, urlNumber, urlParam } from '../lib/ui.ts';
import { computeLandscape, costSettings, landscapeSpec, type Landscape, type LandscapeSettings } from './compute.ts';

const GRIDS = [8, 10, 12, 16, 24, 32, 48];

const state = {
  backend: null as Backend | null,
  settings: null as LandscapeSettings | null,
  landscape: null as Landscape | null,
  computing: false,
  error: null as string | null,
  point: null as null | { x: number; y: number; job: CpuJob; result: CpuJobResult; cost: number; gradient: [number, number] },
  pointPending: null as Promise<void> | null,
  curve: null as CurveJobResult | null,
  curvePending: null as Promise<void> | null,
  curveLength: urlNumber('curveLength', 1.5),
};

const cpu = new CpuWorker();
let gpujs: GpuJsLike | null = null;
async function gpuJs(): Promise<GpuJsLike> {
  if (!gpujs) {
    const { GPU } = await import('../lib/gpujs.ts');
    gpujs = new GPU({ mode: 'webgl2' }) as unknown as GpuJsLike;
  }
  return gpujs;
}

// ---- settings and controls ----

/**
 * The reference cells: first AB/PD 1 under TTX (no sodium current, a small leak), a spikeless slow-wave
 * oscillator whose mean [Ca] changes smoothly with the conductances (with spikes, each spike that
 * appears or disappears moves it by a step: examples/curve-abpd.yaml), then Prinz 2004's 16 cells.
 */
function presetsOf(model: ModelName): { name: string; values: Record<string, number> }[] {
  const cells = modelInfo(model).presets;
  return [{ name: 'AB/PD 1 under TTX (gNa 0, gLeak 0.01): slow wave', values: { ...cells[0].values, gNa: 0, gLeak: 0.01 } }, ...cells];
}

/** The tapered average needs traces: on by default, except on the gpu.js path. */
function taperFor(backend: Backend): boolean {
  const asked = urlParam('taper');
  return backend.kind !== 'webgl2' && asked !== '0';
}

function defaults(model: ModelName, software: boolean, taper: boolean): LandscapeSettings {
  const info = modelInfo(model);
  const presets = presetsOf(model);
  const presetIndex = Math.min(presets.length - 1, Math.max(0, Math.round(urlNumber('preset', 0))));
  const preset = presets[presetIndex].values;
  const usable = info.conductances.filter((g) => preset[g] > 0);
  const x = usable.includes(urlParam('x') ?? '') ? urlParam('x')! : usable.includes('gCaS') ? 'gCaS' : usable[0];
  const y = usable.includes(urlParam('y') ?? '') && urlParam('y') !== x ? urlParam('y')! : usable.find((g) => g === 'gKCa' && g !== x) ?? usable.find((g) => g !== x)!;
  const spread = urlNumber('spread', 4);
  const duration = urlNumber('duration', software ? 2000 : 3000);
  return {
    model, preset, x, y,
    xRange: [preset[x] / spread, preset[x] * spread], yRange: [preset[y] / spread, preset[y] * spread],
    count: Math.max(2, Math.round(urlNumber('grid', software ? 12 : 32))),
    dtMs: urlNumber('dt', 0.05), durationMs: duration, discardMs: urlNumber('discard', duration >= 6000 ? 2000 : duration >= 3000 ? 1000 : 500),
    taper,
  };
}

function setupControls(s: LandscapeSettings): void {
  const info = modelInfo(s.model);
  fillSelect($('model'), [{ value: 'prinz', label: 'Prinz 2003 STG neuron' }, { value: 'liu', label: 'Liu 1998 STG neuron' }], s.model);
  const presets = presetsOf(s.model);
  const presetIndex = presets.findIndex((p) => info.conductances.every((g) => p.values[g] === s.preset[g]));
  fillSelect($('preset'), presets.map((p, k) => ({ value: String(k), label: p.name })), String(Math.max(0, presetIndex)));
  const usable = info.conductances.filter((g) => s.preset[g] > 0);
  const options = usable.map((g) => ({ value: g, label: `${paramLabel(g)} (${fmt(s.preset[g])} mS/cm²)` }));
  fillSelect($('x'), options, s.x);
  fillSelect($('y'), options, s.y);
  const spread = Math.sqrt(s.xRange[1] / s.xRange[0]);
  $<HTMLInputElement>('spread').value = String(spread);
  $('spread-value').textContent = `×/÷ ${fmt(spread)}`;
  $('spread').oninput = () => ($('spread-value').textContent = `×/÷ ${fmt(Number($<HTMLInputElement>('spread').value))}`);
  fillSelect($('grid'), [...new Set([...GRIDS, s.count])].sort((a, b) => a - b).map((n) => ({ value: String(n), label: `${n} × ${n} models` })), String(s.count));
  const duration = $<HTMLSelectElement>('duration');
  if (![...duration.options].some((o) => o.value === String(s.durationMs))) duration.add(new Option(`${s.durationMs / 1000} s (first ${s.discardMs / 1000} s discarded)`, String(s.durationMs)));
  duration.value = String(s.durationMs);
}

function settingsFromControls(): LandscapeSettings {
  const prev = state.settings!;
  const model = $<HTMLSelectElement>('model').value as ModelName;
  const info = modelInfo(model);
  const preset = presetsOf(model)[model === prev.model ? Number($<HTMLSelectElement>('preset').value) : 0].values;
  const usable = info.conductances.filter((g) => preset[g] > 0);
  let x = $<HTMLSelectElement>('x').value, y = $<HTMLSelectElement>('y').value;
  if (!usable.includes(x)) x = usable[0];
  if (!usable.includes(y) || y === x) y = usable.find((g) => g !== x)!;
  const spread = Number($<HTMLInputElement>('spread').value);
  const durationMs = Number($<HTMLSelectElement>('duration').value);
  return {
    ...prev, model, preset, x, y, xRange: [preset[x] / spread, preset[x] * spread], yRange: [preset[y] / spread, preset[y] * spread],
    count: Number($<HTMLSelectElement>('grid').value), durationMs, discardMs: durationMs >= 6000 ? 2000 : durationMs >= 3000 ? 1000 : 500,
  };
}

// ---- drawing ----

/** inferno colour map (polynomial fit, as the WGSL one) */
function inferno(t0: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, t0));
  const c = [
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184], [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914], [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993], [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
  ];
  return [0, 1, 2].map((k) => {
    let v = c[6][k];
    for (let j = 5; j >= 0; j--) v = v * t + c[j][k];
    return Math.round(255 * Math.min(1, Math.max(0, v)));
  }) as [number, number, number];
}

const FLOOR = 1e-6;
function costRange(L: Landscape): [number, number] {
  const logs = Array.from(L.cost, (c) => Math.log10(c + FLOOR)).filter(Number.isFinite).sort((a, b) => a - b);
  return [logs[0], logs[logs.length - 1]];
}

interface MapGeometry { w: number; h: number; cellW: number; cellH: number; toPx(cx: number, cy: number): [number, number]; toCoords(px: number, py: number): [number, number] }

function geometry(L: Landscape, w: number, h: number): MapGeometry {
  const [x0, x1] = [L.xCoords[0], L.xCoords[L.nx - 1]], [y0, y1] = [L.yCoords[0], L.yCoords[L.ny - 1]];
  const cellW = w / L.nx, cellH = h / L.ny;
  // cell centres sit at the grid coordinates
  const toPx = (cx: number, cy: number): [number, number] => [cellW / 2 + ((cx - x0) / (x1 - x0)) * (w - cellW), h - cellH / 2 - ((cy - y0) / (y1 - y0)) * (h - cellH)];
  const toCoords = (px: number, py: number): [number, number] => [x0 + ((px - cellW / 2) / (w - cellW)) * (x1 - x0), y0 + ((h - cellH / 2 - py) / (h - cellH)) * (y1 - y0)];
  return { w, h, cellW, cellH, toPx, toCoords };
}

function drawMap(): void {
  const L = state.landscape;
  const canvas = $<HTMLCanvasElement>('map');
  const { g, w, h } = prepare(canvas);
  if (!L) return;
  const [lo, hi] = costRange(L);
  const image = new ImageData(L.nx, L.ny);
  for (let iy = 0; iy < L.ny; iy++) {
    for (let ix = 0; ix < L.nx; ix++) {
      const v = (Math.log10(L.cost[iy * L.nx + ix] + FLOOR) - lo) / (hi - lo || 1);
      const [r, gg, b] = inferno(v);
      const k = 4 * ((L.ny - 1 - iy) * L.nx + ix);
      image.data.set([r, gg, b, 255], k);
    }
  }
  const off = document.createElement('canvas');
  off.width = L.nx;
  off.height = L.ny;
  off.getContext('2d')!.putImageData(image, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(off, 0, 0, w, h);
  const geo = geometry(L, w, h);
  // arrows: the direction of steepest descent, on at most 16 × 16 cells
  const stride = Math.max(1, Math.ceil(L.nx / 16));
  g.strokeStyle = 'rgba(255,255,255,0.75)';
  g.fillStyle = 'rgba(255,255,255,0.75)';
  g.lineWidth = 1.2;
  const len = 0.42 * stride * Math.min(geo.cellW, geo.cellH);
  const pxPerX = (w - geo.cellW) / (L.xCoords[L.nx - 1] - L.xCoords[0]), pxPerY = (h - geo.cellH) / (L.yCoords[L.ny - 1] - L.yCoords[0]);
  for (let iy = Math.floor(stride / 2); iy < L.ny; iy += stride) {
    for (let ix = Math.floor(stride / 2); ix < L.nx; ix += stride) {
      const k = iy * L.nx + ix;
      let dx = -L.gradient[0][k] * pxPerX, dy = L.gradient[1][k] * pxPerY; // screen y grows downwards
      const n = Math.hypot(dx, dy);
      if (!(n > 0) || !Number.isFinite(n)) continue;
      dx /= n;
      dy /= n;
      const [cx, cy] = geo.toPx(L.xCoords[ix], L.yCoords[iy]);
      const [ax, ay] = [cx - (dx * len) / 2, cy - (dy * len) / 2], [bx, by] = [cx + (dx * len) / 2, cy + (dy * len) / 2];
      g.beginPath(); g.moveTo(ax, ay); g.lineTo(bx, by); g.stroke();
      const head = Math.min(5, len * 0.35);
      g.beginPath();
      g.moveTo(bx, by);
      g.lineTo(bx - head * (dx - 0.5 * dy), by - head * (dy + 0.5 * dx));
      g.lineTo(bx - head * (dx + 0.5 * dy), by - head * (dy - 0.5 * dx));
      g.closePath();
      g.fill();
    }
  }
  // the reference cell (cost 0 there)
  const s = state.settings!;
  const [rx, ry] = geo.toPx(Math.log(s.preset[s.x]), Math.log(s.preset[s.y]));
  g.strokeStyle = '#ffffff';
  g.lineWidth = 2;
  g.beginPath(); g.moveTo(rx - 7, ry); g.lineTo(rx + 7, ry); g.moveTo(rx, ry - 7); g.lineTo(rx, ry + 7); g.stroke();
  // the curve
  const c = state.curve;
  if (c) {
    g.strokeStyle = COLORS.accent;
    g.lineWidth = 2.5;
    g.beginPath();
    for (let k = 0; k < c.s.length; k++) {
      const [px, py] = geo.toPx(c.coords[0][k], c.coords[1][k]);
      if (k === 0) g.moveTo(px, py); else g.lineTo(px, py);
    }
    g.stroke();
  }
  // the clicked point
  const p = state.point;
  if (p) {
    const [px, py] = geo.toPx(Math.log(p.x), Math.log(p.y));
    g.fillStyle = COLORS.accent;
    g.strokeStyle = '#0e1014';
    g.lineWidth = 2;
    g.beginPath(); g.arc(px, py, 6, 0, 2 * Math.PI); g.fill(); g.stroke();
  }
  // colour scale
  const scale = prepare($<HTMLCanvasElement>('scale'));
  for (let k = 0; k < scale.w; k++) {
    const [r, gg, b] = inferno(k / scale.w);
    scale.g.fillStyle = `rgb(${r},${gg},${b})`;
    scale.g.fillRect(k, 0, 1, scale.h);
  }
  $('scale-lo').textContent = `cost 10^${fmt(lo, 2)}`;
  $('scale-hi').textContent = `10^${fmt(hi, 2)}`;
  $('x-lo').textContent = `${paramLabel(s.x)} = ${fmt(L.xValues[0])}`;
  $('x-hi').textContent = `${fmt(L.xValues[L.nx - 1])} mS/cm²`;
  $('x-name').textContent = `x: log ${paramLabel(s.x)} →   ·   y: log ${paramLabel(s.y)} from ${fmt(L.yValues[0])} (bottom) to ${fmt(L.yValues[L.ny - 1])} (top)`;
}

// ---- computing ----

function updateStatus(extra = ''): void {
  const b = state.backend!;
  const L = state.landscape;
  $('status').innerHTML = backendPills(b) + (L
    ? pill('engine', escapeHtml(L.engine)) + pill('grid', `${L.nx} × ${L.ny}`) + pill('wall', `${fmt(L.wallMs / 1000)} s`) +
      pill('speed', `${fmt(L.simPerWall)} sim s / wall s`)
    : '') + extra;
}

async function compute(s: LandscapeSettings): Promise<void> {
  if (state.computing) return;
  state.computing = true;
  state.settings = s;
  state.landscape = null;
  state.point = null;
  state.curve = null;
  setupControls(s);
  renderPoint();
  renderCurve();
  drawMap();
  $<HTMLButtonElement>('compute').disabled = true;
  const bar = $('progress');
  bar.style.width = '0';
  updateStatus(pill('computing', `${s.count * s.count} models…`));
  try {
    state.landscape = await computeLandscape(state.backend!, s, cpu, gpuJs, (f) => (bar.style.width = `${(100 * f).toFixed(1)}%`));
    bar.style.width = '100%';
    const L = state.landscape;
    $('map-sub').textContent = `${L.nx * L.ny} models, ${s.durationMs / 1000} s each (first ${s.discardMs / 1000} s discarded), dt ${s.dtMs} ms; ${s.taper ? 'Hann-tapered' : 'plain'} mean, target ⟨[Ca]⟩ = ${fmt(L.target, 4)} µM; gradient from ${L.gradientFrom}`;
    updateStatus();
    drawMap();
  } finally {
    state.computing = false;
    $<HTMLButtonElement>('compute').disabled = false;
  }
}

function otherConductances(s: LandscapeSettings): Record<string, number> {
  return Object.fromEntries(modelInfo(s.model).conductances.filter((g) => g !== s.x && g !== s.y).map((g) => [g, s.preset[g]]));
}

/** The model at (x, y): its traces (f64 CPU engine) and its cost with the exact gradient (two tangent lanes). */
async function inspect(x: number, y: number): Promise<void> {
  const s = state.settings!;
  const params: Record<string, Float64Array> = Object.fromEntries(Object.entries({ ...otherConductances(s), [s.x]: x, [s.y]: y }).map(([k, v]) => [k, Float64Array.of(v)]));
  const job: CpuJob = {
    model: s.model, dtMs: s.dtMs, N: 1, params, durationMs: s.durationMs, discardMs: s.discardMs, traceEveryMs: 0.5, traceInstances: [0], classify: true,
  };
  state.point = null;
  state.curve = null;
  $('point-title').textContent = `${paramLabel(s.x)} = ${fmt(x, 4)}, ${paramLabel(s.y)} = ${fmt(y, 4)}: simulating (f64 CPU engine)…`;
  $<HTMLButtonElement>('curve').disabled = true;
  const [result, at] = await Promise.all([cpu.run(job), cpu.points(landscapeSpec(s, 'cpu'), [Float64Array.of(Math.log(x)), Float64Array.of(Math.log(y))])]);
  state.point = { x, y, job, result, cost: at.cost[0], gradient: [at.gradient[0][0], at.gradient[1][0]] };
  renderPoint();
  drawMap();
  renderCurve();
  $<HTMLButtonElement>('curve').disabled = false;
}

function renderPoint(): void {
  const p = state.point, s = state.settings;
  if (!p || !s) {
    $('point-values').innerHTML = '';
    if (!p) $('point-title').textContent = 'click the map';
    prepare($<HTMLCanvasElement>('point-v'));
    prepare($<HTMLCanvasElement>('point-ca'));
    return;
  }
  const r = p.result;
  const ca = r.observed.find((o) => o.name === 'Ca')!, v = r.observed.find((o) => o.name === 'V')!;
  $('point-title').textContent = `${paramLabel(s.x)} = ${fmt(p.x, 4)}, ${paramLabel(s.y)} = ${fmt(p.y, 4)} mS/cm²`;
  $('point-values').innerHTML = [
    ['class', `${r.classes?.[0] ?? '–'}${r.burstPeriodMs?.[0] ? `, period ${fmt(r.burstPeriodMs[0], 4)} ms` : ''}`],
    ['⟨[Ca]⟩', `${fmt(ca.mean[0], 5)} µM plain average${s.taper ? ' (the cost uses the tapered one)' : ''}; target ${fmt(state.landscape!.target, 5)}`],
    ['⟨V⟩', `${fmt(v.mean[0], 4)} mV, ${r.spikeCount[0]} spikes`],
    ['cost', fmt(p.cost, 4)],
    [`∂cost/∂log ${s.x}`, fmt(p.gradient[0], 4)],
    [`∂cost/∂log ${s.y}`, fmt(p.gradient[1], 4)],
    ['engine', `${escapeHtml(r.device)}, f64, ${fmt(r.wallMs)} ms`],
  ].map(([k, val]) => `<dt>${k}</dt><dd>${val}</dd>`).join('');
  const tr = r.traces!;
  const col = (name: string) => {
    const o = tr.names.indexOf(name);
    return Float64Array.from({ length: tr.timesMs.length }, (_, k) => tr.values[k * tr.width + o]);
  };
  linePlot($<HTMLCanvasElement>('point-v'), [{ x: tr.timesMs, y: col('V'), color: COLORS.accent }], { xLabel: 'ms' });
  linePlot($<HTMLCanvasElement>('point-ca'), [{ x: tr.timesMs, y: col('Ca'), color: COLORS.warn }], { xLabel: 'ms' });
}

async function drawCurve(): Promise<void> {
  const p = state.point, s = state.settings;
  if (!p || !s) return;
  $<HTMLButtonElement>('curve').disabled = true;
  $('curve-title').textContent = 'evolving (f64 CPU engine, Web Worker)…';
  // the cost ceiling: within 0.7 % of the start's mean [Ca] on a smooth (tapered) cost, 3 % on a plain one
  const spec = {
    ...costSettings(s), start: { [s.x]: p.x, [s.y]: p.y }, parameters: [`log:${s.x}`, `log:${s.y}`],
    momentum: s.taper ? 5e-5 : 1e-3, length: state.curveLength, maxSteps: 400, step: { initial: 0.02, min: 1e-4, max: 0.08 },
  };
  try {
    state.curve = await cpu.curve(spec, (progress) => {
      $('curve-title').textContent = `step ${progress.step + 1}: arc length ${progress.s.map((x) => fmt(x, 3)).join(' and ')}…`;
    });
  } catch (e) {
    $('curve-title').textContent = `failed: ${String((e as Error).message ?? e)}`;
    $<HTMLButtonElement>('curve').disabled = false;
    return;
  }
  renderCurve();
  drawMap();
  $<HTMLButtonElement>('curve').disabled = false;
}

function renderCurve(): void {
  const c = state.curve;
  if (!c) {
    $('curve-values').innerHTML = '';
    if (!state.point) $('curve-title').textContent = '';
    prepare($<HTMLCanvasElement>('curve-cost'));
    return;
  }
  $('curve-title').textContent = `${c.s.length} points, ${c.evaluations} model runs, ${fmt(c.wallMs / 1000)} s; stopped by ${c.stopped.join(' / ')}`;
  $('curve-values').innerHTML = [
    ['arc length', `${fmt(c.s[0], 3)} … ${fmt(c.s[c.s.length - 1], 3)} (log units)`],
    ['largest cost', `${fmt(Math.max(...c.cost), 3)} (ceiling ${fmt(c.ceiling, 3)})`],
    ...c.changes.map((ch) => [`${ch.key} changes`, ch.factor ? `×${fmt(ch.factor, 3)}` : fmt(ch.range, 3)]),
  ].map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
  linePlot($<HTMLCanvasElement>('curve-cost'), [{ x: c.s, y: c.cost, color: COLORS.accent, label: 'cost along the curve' }], { xLabel: 'arc length' });
}

// ---- start-up ----

function fail(e: unknown): void {
  state.error = String((e as Error)?.stack ?? e);
  console.error(e);
  notice($('notices'), `<b>Stopped:</b> ${escapeHtml(String((e as Error)?.message ?? e))}`, 'error');
}

function exposeForTests(): void {
  exposeHook({
    page: 'landscape',
    get ready() { return state.landscape !== null && !state.computing; },
    get error() { return state.error; },
    get backend() { return state.backend && { kind: state.backend.kind, label: backendLabel(state.backend), adapter: state.backend.adapter, reason: state.backend.reason }; },
    get settings() { return state.settings; },
    get landscape() {
      const L = state.landscape;
      return L && { ...L, xValues: Array.from(L.xValues), yValues: Array.from(L.yValues), xCoords: Array.from(L.xCoords), yCoords: Array.from(L.yCoords), cost: Array.from(L.cost), gradient: L.gradient.map((g) => Array.from(g)) };
    },
    get point() {
      const p = state.point;
      return p && { x: p.x, y: p.y, cost: p.cost, gradient: p.gradient, job: { ...p.job, params: Object.fromEntries(Object.entries(p.job.params).map(([k, v]) => [k, Array.from(v)])) }, meanCa: p.result.observed.find((o) => o.name === 'Ca')!.mean[0] };
    },
    get curve() {
      const c = state.curve;
      return c && { ...c, s: Array.from(c.s), coords: c.coords.map((a) => Array.from(a)), cost: Array.from(c.cost) };
    },
    /** pixel position (CSS, relative to the viewport) of parameter values (x, y) on the map */
    mapPosition: (x: number, y: number) => {
      const canvas = $<HTMLCanvasElement>('map'), rect = canvas.getBoundingClientRect();
      const geo = geometry(state.landscape!, rect.width, rect.height);
      const [px, py] = geo.toPx(Math.log(x), Math.log(y));
      return [rect.left + px, rect.top + py];
    },
    waitPoint: () => state.pointPending,
    waitCurve: () => state.curvePending,
  });
}

async function main(): Promise<void> {
  exposeForTests();
  const backend = await chooseBackend(['webgpu', 'webgl2', 'cpu']);
  state.backend = backend;
  updateStatus();
  if (backend.kind !== 'webgpu') {
    notice($('notices'), backend.kind === 'webgl2'
      ? `<b>Path: WebGL2 through gpu.js</b> (${escapeHtml(backend.reason)}). The cost grid runs as a gpu.js kernel of the model's step; its gradient arrows are finite differences on the grid (gpu.js kernels with tangent lanes take too long to compile on many drivers); clicked points and curves run on the f64 CPU engine in a Web Worker.`
      : `<b>Path: CPU engine in a Web Worker</b> (${escapeHtml(backend.reason)}). Every number here is f64.`);
  }
  const model = (urlParam('model') === 'liu' ? 'liu' : 'prinz') as ModelName;
  const s = defaults(model, backend.kind !== 'webgpu' || Boolean(backend.gpu?.isFallbackAdapter), taperFor(backend));
  state.settings = s;
  setupControls(s);
  const map = $<HTMLCanvasElement>('map');
  map.addEventListener('click', (event) => {
    const L = state.landscape;
    if (!L || state.computing) return;
    const rect = map.getBoundingClientRect();
    const geo = geometry(L, rect.width, rect.height);
    const [cx, cy] = geo.toCoords(event.clientX - rect.left, event.clientY - rect.top);
    state.pointPending = inspect(Math.exp(cx), Math.exp(cy)).catch(fail);
  });
  $('curve').addEventListener('click', () => {
    state.curvePending = drawCurve().catch(fail);
  });
  $('compute').addEventListener('click', () => compute(settingsFromControls()).catch(fail));
  $('model').addEventListener('change', () => {
    const m = $<HTMLSelectElement>('model').value as ModelName;
    const next = { ...defaults(m, backend.kind !== 'webgpu' || Boolean(backend.gpu?.isFallbackAdapter), taperFor(backend)), count: Number($<HTMLSelectElement>('grid').value) };
    state.settings = next;
    setupControls(next);
  });
  window.addEventListener('resize', () => drawMap());
  await compute(s);
}

main().catch(fail);
