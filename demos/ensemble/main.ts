/**
 * Ensemble explorer: thousands of neurons drawn from a distribution over conductances, simulated live
 * on WebGPU and drawn from the simulation's buffers; classes from the voltage maxima the kernel
 * records; click a neuron for its trace, calcium and gradient (the gradient from the f64 CPU engine's
 * tangent lanes, in a Web Worker).
 *
 * URL parameters (all optional): model, dist, preset, spread, n, dt, seed, select (an instance),
 * stopAtMs (stop the simulation there: tests use it to compare with the CPU engine), backend.
 * `window.__ionsweep` exposes the state to the browser tests.
 */
import { classifyActivity, type ActivityClass } from '../../src/analysis/classify.ts';
import { compile } from '../../src/compile/compile.ts';
import { eventSlots, maximaEntry } from '../../src/compile/layout.ts';
import type { StepProgram } from '../../src/compile/program.ts';
import { backendLabel, chooseBackend, type Backend } from '../lib/backend.ts';
import { CpuWorker } from '../lib/cpu-client.ts';
import type { CpuJob, CpuJobResult } from '../lib/cpu-job.ts';
import {
  CURRENT, DISTRIBUTION_CHOICES, MODEL_CHOICES, defaultDistribution, modelInfo, paramLabel, paramsOf, sampleParams,
  type Distribution, type DistributionKind, type ModelInfo, type ModelName,
} from '../lib/models.ts';
import { COLORS, barChart, linePlot } from '../lib/plot2d.ts';
import { exposeHook } from '../lib/hooks.ts';
import { $, backendPills, escapeHtml, fillSelect, fmt, notice, pill, urlNumber, urlParam } from '../lib/ui.ts';
import { LiveEnsemble } from './live.ts';
import { CLASS_CODES, CLASS_COLORS, Renderer, type SimBuffers, type View } from './render.ts';
import { autoscaleRange, niceTicks, renderColorBar, renderYAxis } from './scales.ts';

const N_CHOICES = [256, 1024, 4096, 16384, 65536, 100000];
/** traced instances at most (the population image and the trace views); the raster shows all */
const MAX_TRACED = 4096;
const RING_SAMPLES = 2000;
const LINE_COUNT = 12;
/** classification window: the last seconds of maxima, after a short transient */
const CLASS_WINDOW_MS = 5000;
const TRANSIENT_MS = 500;
const CLASSIFY_EVERY_MS = 1000;
/**
 * A software adapter (SwiftShader, llvmpipe) simulates 1,024 prinz neurons at a few hundredths of
 * real time, so the first classes (after 1 s of simulated time) would take about a minute: without n
 * and dt in the URL it starts with this many neurons at dt 0.05 ms, whose first classes come within
 * seconds, and says so.
 */
const SOFTWARE_DEFAULT = { N: 256, dtMs: 0.05 };
/**
 * Frame budget (ms) on a software adapter: its drawing alone takes most of an 18 ms frame, leaving the
 * simulation a sliver; at 60 ms (about 15 frames per second) the first classes of the default came in
 * 19 s instead of 54 s here (2 cores, SwiftShader, with other work on the host).
 */
const SOFTWARE_FRAME_BUDGET_MS = 60;
/** the V range the traces and the population image are drawn over (mV) */
const V_LINES = { vMin: -80, vMax: 45 }, V_HEAT = { vMin: -80, vMax: 40 }, V_DETAIL = { vMin: -80, vMax: 50 };
/** how often the [Ca] axis follows the autoscaled range (wall ms) */
const CA_AXIS_EVERY_MS = 500;

interface Config {
  model: ModelName;
  dist: Distribution;
  presetIndex: number;
  N: number;
  dtMs: number;
  stopAtMs: number | null;
}

interface Stats {
  frames: number;
  wallMs: number;
  simMs: number;
  neuronSteps: number;
}

const state = {
  backend: null as Backend | null,
  config: null as Config | null,
  info: null as ModelInfo | null,
  program: null as StepProgram | null,
  params: null as Float32Array | null,
  live: null as LiveEnsemble | null,
  renderer: null as Renderer | null,
  views: {} as Record<string, View>,
  sim: null as SimBuffers | null,
  classBuffer: null as GPUBuffer | null,
  classes: [] as (ActivityClass | 'unknown' | 'diverged')[],
  /** burst period (ms) of each periodically bursting neuron in the same classification, else NaN */
  burstPeriods: new Float64Array(0),
  classesAtMs: 0,
  selected: -1,
  paused: false,
  /** simulated ms per wall ms at most (0: as fast as the device goes) */
  speedLimit: 1,
  lastFrameAt: 0,
  running: false,
  busy: false,
  error: null as string | null,
  totals: { frames: 0, wallMs: 0, simMs: 0, neuronSteps: 0 } as Stats,
  rate: { fps: 0, simPerWall: 0, neuronStepsPerS: 0 },
  lastClassifyWall: 0,
  lastCaAxisWall: 0,
  /** the [Ca] range the detail axis shows (after the shader's padding), µM */
  caAxis: null as [number, number] | null,
  generation: 0,
  detail: null as null | { instance: number; params: Record<string, number>; job: CpuJob; result: CpuJobResult },
  detailPending: null as Promise<void> | null,
};

const cpu = new CpuWorker();

function readConfig(software = false): Config {
  const model = (MODEL_CHOICES.some((m) => m.name === urlParam('model')) ? urlParam('model') : 'prinz') as ModelName;
  const info = modelInfo(model);
  const dist = defaultDistribution(model);
  const kind = urlParam('dist');
  if (kind && DISTRIBUTION_CHOICES.some((d) => d.kind === kind)) dist.kind = kind as DistributionKind;
  const presetIndex = Math.min(info.presets.length - 1, Math.max(0, Math.round(urlNumber('preset', 0))));
  dist.preset = info.presets[presetIndex].values;
  dist.spread = urlNumber('spread', dist.spread);
  dist.seed = Math.round(urlNumber('seed', 1));
  const vary = urlParam('vary');
  if (vary) dist.vary = vary.split(',').filter((p) => info.instanceParams.includes(p));
  const N = Math.max(1, Math.round(urlNumber('n', software ? SOFTWARE_DEFAULT.N : 1024)));
  const dtMs = urlNumber('dt', software ? SOFTWARE_DEFAULT.dtMs : 0.025);
  const stop = urlParam('stopAtMs');
  return { model, dist, presetIndex, N, dtMs, stopAtMs: stop === null ? null : Number(stop) };
}

function setupControls(cfg: Config): void {
  const info = modelInfo(cfg.model);
  fillSelect($('model'), MODEL_CHOICES.map((m) => ({ value: m.name, label: m.label })), cfg.model);
  fillSelect($('preset'), info.presets.map((p, k) => ({ value: String(k), label: p.name })), String(cfg.presetIndex));
  fillSelect($('dist'), DISTRIBUTION_CHOICES.filter((d) => d.kind !== 'prinz-grid' || info.gridSteps).map((d) => ({ value: d.kind, label: d.label })), cfg.dist.kind);
  const spread = $<HTMLInputElement>('spread');
  spread.value = String(cfg.dist.spread);
  $('spread-value').textContent = `×/÷ ${Number(cfg.dist.spread).toFixed(2)}`;
  spread.oninput = () => ($('spread-value').textContent = `×/÷ ${Number(spread.value).toFixed(2)}`);
  $('vary').innerHTML = info.instanceParams
    .map((p) => `<label><input type="checkbox" value="${p}" ${cfg.dist.vary.includes(p) ? 'checked' : ''}> ${escapeHtml(paramLabel(p))}</label>`)
    .join('');
  fillSelect($('n'), [...new Set([...N_CHOICES, cfg.N])].sort((a, b) => a - b).map((n) => ({ value: String(n), label: n.toLocaleString('en') })), String(cfg.N));
  $<HTMLSelectElement>('dt').value = String(cfg.dtMs);
  $<HTMLInputElement>('seed').value = String(cfg.dist.seed);
}

function configFromControls(): Config {
  const model = $<HTMLSelectElement>('model').value as ModelName;
  const info = modelInfo(model);
  const prev = state.config!;
  const modelChanged = model !== prev.model;
  const dist = modelChanged ? defaultDistribution(model) : { ...prev.dist };
  const presetIndex = modelChanged ? 0 : Number($<HTMLSelectElement>('preset').value);
  dist.preset = info.presets[presetIndex].values;
  if (!modelChanged) {
    dist.kind = $<HTMLSelectElement>('dist').value as DistributionKind;
    dist.spread = Number($<HTMLInputElement>('spread').value);
    dist.vary = [...document.querySelectorAll<HTMLInputElement>('#vary input:checked')].map((c) => c.value);
  }
  dist.seed = Math.round(Number($<HTMLInputElement>('seed').value) || 0);
  return { model, dist, presetIndex, N: Number($<HTMLSelectElement>('n').value), dtMs: Number($<HTMLSelectElement>('dt').value), stopAtMs: prev.stopAtMs };
}

/** Trace sampling: STG bursters need seconds in view, HH spikes need sub-millisecond samples. */
function traceEveryMs(model: ModelName): number {
  return model === 'hh' ? 0.25 : 1;
}

async function start(cfg: Config): Promise<void> {
  const backend = state.backend!;
  const generation = ++state.generation;
  state.running = false;
  while (state.busy) await new Promise((r) => setTimeout(r, 5));
  state.live?.destroy();
  state.live = null;
  state.classBuffer?.destroy();
  state.config = cfg;
  state.info = modelInfo(cfg.model);
  state.selected = -1;
  state.detail = null;
  state.classes = [];
  state.classesAtMs = 0;
  setupControls(cfg);
  const info = state.info;
  state.program = compile(info.model, { dtMs: cfg.dtMs, instanceParams: [...info.instanceParams] });
  state.params = sampleParams(info, cfg.dist, cfg.N);
  const traceEvery = Math.max(1, Math.round(traceEveryMs(cfg.model) / cfg.dtMs));
  const big = cfg.N > 16384;
  const traceRows = Math.min(cfg.N, MAX_TRACED);
  const ctx = backend.gpu!;
  const live = await LiveEnsemble.create(ctx, state.program, {
    N: cfg.N, params: state.params, traceRows, ringSamples: RING_SAMPLES, traceEvery,
    spikeCapacity: big ? 24 : 48, maximaCapacity: big ? 48 : 128, frameBudgetMs: urlNumber('budget', state.backend?.gpu?.isFallbackAdapter ? SOFTWARE_FRAME_BUDGET_MS : 18),
  });
  if (generation !== state.generation) { live.destroy(); return; }
  state.live = live;
  const layout = live.kernel.layout;
  state.classBuffer = ctx.device.createBuffer({ size: Math.max(16, 4 * cfg.N), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  state.sim = {
    trace: live.session.buffers.trace, events: live.session.buffers.events, classes: state.classBuffer, n: cfg.N, ring: RING_SAMPLES,
    width: layout.traceWidth, spikeCap: layout.spikeCapacity, sources: layout.spikeSources,
  };
  const r = state.renderer!;
  const v = state.views;
  v.lines.params = { rows: traceRows, selected: -1, lines: Math.min(LINE_COUNT, traceRows), firstRow: 0, rowStride: Math.max(1, Math.floor(traceRows / Math.min(LINE_COUNT, traceRows))), ...V_LINES };
  v.heatmap.params = { rows: traceRows, selected: -1, strip: 10, ...V_HEAT };
  v.raster.params = { rows: cfg.N, selected: -1 };
  v.detailV.params = { rows: traceRows, selected: -1, lines: 1, firstRow: 0, ...V_DETAIL, color: [0.3, 1, 0.6] };
  v.detailCa.params = { rows: traceRows, selected: -1, lines: 1, firstRow: 0, obs: 1, autoscale: true, color: [0.97, 0.59, 0.12] };
  r.bindAll(state.sim);
  const hasCa = layout.observed > 1;
  $('detail-ca-box').style.display = hasCa ? '' : 'none';
  // amplitude scales: the top lane of the traces (every lane alike), the selected neuron's V, the colour bar
  renderYAxis($('lines-axis'), [40, -80], V_LINES.vMin, V_LINES.vMax, 'mV', devicePx('lines'), 0, v.lines.params.lines);
  renderYAxis($('detail-v-axis'), [40, 0, -40, -80], V_DETAIL.vMin, V_DETAIL.vMax, 'mV', devicePx('detail-v'));
  renderColorBar($<HTMLCanvasElement>('heatmap-bar'), $('heatmap-bar-ticks'), V_HEAT.vMin, V_HEAT.vMax, 'mV');
  state.caAxis = null;
  $('detail-ca-axis').innerHTML = '<span class="unit">µM</span>';
  $('detail-ca-label').style.display = hasCa ? '' : 'none';
  $('lines-sub').textContent = `${v.lines.params.lines} of ${cfg.N.toLocaleString('en')} neurons, every ${v.lines.params.rowStride}th, each lane −${-V_LINES.vMin} … +${V_LINES.vMax} mV; ${fmt(live.windowMs / 1000)} s window`;
  renderLegend();
  renderDetail();
  state.totals = { frames: 0, wallMs: 0, simMs: 0, neuronSteps: 0 };
  state.running = true;
  const select = urlParam('select');
  if (select !== null && state.selected < 0) selectInstance(Number(select));
}

// ---- frame loop ----

let lastStats = { at: performance.now(), frames: 0, simMs: 0, neuronSteps: 0 };

async function frame(): Promise<void> {
  const live = state.live, cfg = state.config;
  if (!live || !cfg || !state.running) return;
  const t0 = performance.now();
  const simBefore = live.simMs;
  let steps = 0;
  if (!state.paused) {
    steps = live.stepsPerFrame;
    if (cfg.stopAtMs !== null) steps = Math.min(steps, Math.max(0, Math.round(cfg.stopAtMs / cfg.dtMs) - live.step));
    // a speed limit (× real time) caps the simulated time per frame at the wall time since the last one
    if (state.speedLimit > 0 && state.lastFrameAt > 0) steps = Math.min(steps, Math.max(1, Math.round((state.speedLimit * Math.min(100, t0 - state.lastFrameAt)) / cfg.dtMs)));
    if (steps > 0) await live.advance(steps);
  }
  state.lastFrameAt = t0;
  if (!state.running || state.live !== live) return;
  const now = performance.now();
  if (now - state.lastClassifyWall > CLASSIFY_EVERY_MS && live.simMs > TRANSIENT_MS + 500 && live.simMs !== state.classesAtMs) {
    state.lastClassifyWall = now;
    await classify();
  }
  for (const view of Object.values(state.views)) view.params.selected = state.selected;
  state.renderer!.draw(state.sim!, { taken: live.samplesTaken, tNowMs: live.simMs, windowMs: live.windowMs });
  if (state.selected >= 0 && now - state.lastCaAxisWall > CA_AXIS_EVERY_MS && state.views.detailCa.params.autoscale) {
    state.lastCaAxisWall = now;
    await updateCaAxis();
  }
  const dSim = live.simMs - simBefore;
  const frameMs = performance.now() - t0;
  live.frameDone(frameMs, steps);
  state.totals.frames++;
  state.totals.wallMs += frameMs;
  state.totals.simMs += dSim;
  state.totals.neuronSteps += (dSim / cfg.dtMs) * cfg.N;
}

function loop(): void {
  requestAnimationFrame(loop);
  if (state.busy || !state.running) return;
  state.busy = true;
  frame()
    .catch((e) => fail(e))
    .finally(() => {
      state.busy = false;
    });
  updateStatus();
}

function updateStatus(): void {
  const now = performance.now();
  const live = state.live, cfg = state.config;
  if (now - lastStats.at >= 1000) {
    const dt = (now - lastStats.at) / 1000;
    state.rate = {
      fps: (state.totals.frames - lastStats.frames) / dt,
      simPerWall: (state.totals.simMs - lastStats.simMs) / 1000 / dt,
      neuronStepsPerS: (state.totals.neuronSteps - lastStats.neuronSteps) / dt,
    };
    lastStats = { at: now, frames: state.totals.frames, simMs: state.totals.simMs, neuronSteps: state.totals.neuronSteps };
    if (!state.backend) return;
    const stopped = cfg?.stopAtMs !== null && live && live.step >= Math.round(cfg!.stopAtMs! / cfg!.dtMs);
    $('status').innerHTML = backendPills(state.backend) +
      (live && cfg
        ? pill('neurons', cfg.N.toLocaleString('en')) +
          pill('t', `${fmt(live.simMs / 1000, 4)} s${state.paused ? ' (paused)' : stopped ? ' (stopped)' : ''}`) +
          pill('speed', `${fmt(state.rate.simPerWall)} sim s / wall s`) +
          pill('fps', fmt(state.rate.fps)) +
          pill('steps/frame', String(live.stepsPerFrame)) +
          pill('neuron-steps/s', fmt(state.rate.neuronStepsPerS))
        : '');
    const eta = document.getElementById('class-eta');
    if (eta && live && !state.classes.length) {
      const left = (TRANSIENT_MS + 500 - live.simMs) / 1000;
      eta.textContent = state.rate.simPerWall > 0 && left > 0 ? ` (first classes at t = ${(TRANSIENT_MS + 500) / 1000} s: in about ${fmt(left / state.rate.simPerWall, 2)} s at this speed)` : '';
    }
    if (live) {
      $('t-left').textContent = `${fmt(Math.max(0, live.simMs - live.windowMs) / 1000, 4)} s`;
      $('t-right').textContent = `${fmt(live.simMs / 1000, 4)} s`;
    }
  }
}

/** A canvas's drawing-buffer height as the renderer sizes it (View.resize). */
const devicePx = (id: string) => Math.max(2, Math.round($(id).clientHeight * state.renderer!.scale));

/** Labels the autoscaled [Ca] trace with the range the GPU drew it over (read back from the view). */
async function updateCaAxis(): Promise<void> {
  const range = await state.views.detailCa.readRange();
  if (!range) return;
  const [lo, hi] = autoscaleRange(range[0], range[1]);
  state.caAxis = [lo, hi];
  renderYAxis($('detail-ca-axis'), niceTicks(lo, hi, 4), lo, hi, 'µM', devicePx('detail-ca'));
}

// ---- classification from the maxima the kernel records ----

async function classify(): Promise<void> {
  const live = state.live!;
  const cfg = state.config!;
  const N = cfg.N;
  const events = await live.readEvents();
  const layout = live.kernel.layout;
  const slots = eventSlots(layout);
  const M = layout.maximaCapacity;
  const now = live.simMs;
  const from = Math.max(TRANSIENT_MS, now - CLASS_WINDOW_MS);
  const codes = new Float32Array(N);
  const classes: (ActivityClass | 'unknown' | 'diverged')[] = new Array(N);
  const periods = new Float64Array(N).fill(NaN);
  const times: number[] = [], values: number[] = [];
  for (let i = 0; i < N; i++) {
    // a diverged instance (its record in the events buffer, engine/results.ts) has no activity class
    if (events[slots.divergedState * N + i] !== 0) {
      classes[i] = 'diverged';
      codes[i] = CLASS_CODES.diverged;
      continue;
    }
    const count = events[slots.maximaCount(0) * N + i];
    const kept = Math.min(count, M);
    const first = count > M ? count % M : 0;
    times.length = 0;
    values.length = 0;
    let windowStart = from;
    for (let e = 0; e < kept; e++) {
      const slot = (first + e) % M;
      const at = slots.maximaRings(0) * N + maximaEntry(i, slot, M);
      const t = events[at];
      if (e === 0 && count > M) windowStart = Math.max(windowStart, t);
      if (t < windowStart) continue;
      times.push(t);
      values.push(events[at + M]);
    }
    const f = classifyActivity({ maximaTimesMs: times, maximaValuesMv: values, windowStartMs: windowStart, windowEndMs: now });
    classes[i] = f.class;
    if (f.burstPeriodMs !== null) periods[i] = f.burstPeriodMs;
    codes[i] = CLASS_CODES[f.class];
  }
  if (state.live !== live) return;
  state.classes = classes;
  state.burstPeriods = periods;
  state.classesAtMs = now;
  state.backend!.gpu!.device.queue.writeBuffer(state.classBuffer!, 0, codes);
  renderLegend();
  // the selected neuron's header and detail list show this classification: both change together
  renderDetail();
}

/** The window the current classes describe, as text ('3.5–5.5 s of the live run'). */
function classWindowText(): string {
  const from = Math.max(TRANSIENT_MS, state.classesAtMs - CLASS_WINDOW_MS);
  return `${fmt(from / 1000, 3)}–${fmt(state.classesAtMs / 1000, 3)} s of the live run`;
}

function renderLegend(): void {
  const counts: Record<string, number> = { silent: 0, tonic: 0, bursting: 0, irregular: 0, diverged: 0, unknown: 0 };
  for (const c of state.classes) counts[c]++;
  const N = state.config?.N ?? 0;
  if (!state.classes.length) counts.unknown = N;
  $('legend').innerHTML = (Object.keys(CLASS_COLORS) as (keyof typeof CLASS_COLORS)[])
    .filter((k) => (k !== 'unknown' && k !== 'diverged') || counts[k] > 0)
    .map((k) => `<span><span class="sw" style="background:${CLASS_COLORS[k]}"></span>${k === 'unknown' ? 'not yet classified' : k} <b>${counts[k]}</b> <span class="muted">(${fmt((100 * counts[k]) / Math.max(1, N), 3)} %)</span></span>`)
    .join('') + (state.classesAtMs ? `<span class="muted">at t = ${fmt(state.classesAtMs / 1000, 4)} s, over the last ${fmt((state.classesAtMs - Math.max(TRANSIENT_MS, state.classesAtMs - CLASS_WINDOW_MS)) / 1000, 3)} s</span>` : '<span class="muted" id="class-eta"></span>');
}

// ---- selection and the detail panel ----

function selectInstance(i: number): void {
  const cfg = state.config;
  if (!cfg || !Number.isInteger(i) || i < 0 || i >= cfg.N) return;
  state.selected = i;
  const traced = i < Math.min(cfg.N, MAX_TRACED);
  state.views.detailV.params.firstRow = traced ? i : 0;
  state.views.detailCa.params.firstRow = traced ? i : 0;
  renderDetail();
  state.detailPending = computeGradient(i);
}

function renderDetail(): void {
  const cfg = state.config, info = state.info;
  const i = state.selected;
  if (!cfg || !info || i < 0) {
    $('detail-title').textContent = 'none: click a trace, a row or a spike';
    $('detail-params').innerHTML = '';
    $('detail-grad-note').textContent = '';
    return;
  }
  const p = paramsOf(info, state.params!, cfg.N, i);
  const cls = state.classes[i] ?? 'unknown';
  const clsText = cls === 'unknown' ? 'not yet classified' : cls;
  $('detail-title').innerHTML = `#${i} · <span id="detail-title-class" style="color:${CLASS_COLORS[cls]}">${clsText}</span>${i >= MAX_TRACED ? ' · not traced (only the first 4,096 are)' : ''}`;
  // one classification for the header and the list: the live run's (the legend's and the image's),
  // never the f64 re-run's, whose window (1–3 s from a cold start) and rounding differ
  const period = state.burstPeriods[i];
  const classRow = `<dt>class</dt><dd><span id="detail-class">${clsText}</span>${period > 0 ? `, period ${fmt(period, 4)} ms` : ''}${state.classesAtMs ? ` <span class="muted">(${classWindowText()})</span>` : ''}</dd>`;
  $('detail-params').innerHTML = info.instanceParams
    .map((name) => `<dt>${escapeHtml(paramLabel(name))}</dt><dd>${fmt(p[name], 4)} ${name === CURRENT ? 'µA/cm²' : 'mS/cm²'}</dd>`)
    .join('') + classRow + (state.detail?.instance === i ? detailNumbers(state.detail.result) : '<dt>gradient</dt><dd class="muted">computing…</dd>');
}

function detailNumbers(r: CpuJobResult): string {
  const ca = r.observed.find((o) => o.kind === 'calcium');
  const v = r.observed.find((o) => o.kind === 'voltage')!;
  return `<dt>⟨V⟩</dt><dd>${fmt(v.mean[0], 4)} mV</dd>` +
    (ca ? `<dt>⟨[Ca]⟩</dt><dd>${fmt(ca.mean[0], 4)} µM</dd>` : '') +
    `<dt>spikes</dt><dd>${r.spikeCount[0]} in 1–3 s <span class="muted">(f64 re-run)</span></dd>`;
}

/** The gradient of the selected neuron's mean [Ca] (mean V for HH) over 1–3 s, by the CPU engine's tangent lanes (f64). */
async function computeGradient(i: number): Promise<void> {
  const cfg = state.config!, info = state.info!;
  const p = paramsOf(info, state.params!, cfg.N, i);
  const job: CpuJob = {
    model: cfg.model, dtMs: cfg.dtMs, N: 1,
    params: Object.fromEntries(Object.entries(p).map(([k, x]) => [k, Float64Array.of(x)])),
    tangents: info.conductances.map((g) => `log:${g}`),
    durationMs: 3000, discardMs: 1000, traceEveryMs: 1, traceInstances: [0], traceTangents: true,
  };
  $('detail-grad-note').textContent = 'computing the gradient on the CPU engine (f64, Web Worker)…';
  let result: CpuJobResult;
  try {
    result = await cpu.run(job);
  } catch (e) {
    $('detail-grad-note').textContent = `gradient failed: ${String(e)}`;
    return;
  }
  if (state.selected !== i || state.config !== cfg) return;
  state.detail = { instance: i, params: p, job, result };
  renderDetail();
  const obs = result.observed.find((o) => o.kind === 'calcium') ?? result.observed[0];
  const grads = obs.meanTangent.map((t) => t[0]);
  barChart($<HTMLCanvasElement>('detail-grad'), info.conductances.map(paramLabel), grads, { title: `d⟨${obs.name}⟩/d log g  (${obs.unit}), 1–3 s` });
  // the tangent of the observed quantity along the trace, for the lane with the largest effect
  const tr = result.traces!;
  const j = grads.reduce((best, g, k) => (Math.abs(g) > Math.abs(grads[best]) ? k : best), 0);
  const O = tr.names.length;
  const o = tr.names.indexOf(obs.name);
  const S = tr.timesMs.length;
  const value = new Float64Array(S), tangent = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    value[s] = tr.values[s * tr.width + o];
    tangent[s] = tr.values[s * tr.width + O + o * result.lanes.length + j];
  }
  linePlot($<HTMLCanvasElement>('detail-tangent'), [{ x: tr.timesMs, y: tangent, color: COLORS.violet, label: `d${obs.name}(t)/d log ${info.conductances[j]}` }], { xLabel: 'ms' });
  $('detail-grad-note').textContent = `f64 CPU engine, 8 tangent lanes (${fmt(result.wallMs)} ms in a Web Worker); ⟨${obs.name}⟩ = ${fmt(obs.mean[0], 4)} ${obs.unit}, range ${fmt(Math.min(...value), 3)}…${fmt(Math.max(...value), 3)}`;
}

function rowFromEvent(canvas: HTMLCanvasElement, event: MouseEvent, rows: number): number {
  const rect = canvas.getBoundingClientRect();
  return Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - rect.top) / rect.height) * rows)));
}

// ---- errors, test hooks, start-up ----

function fail(e: unknown): void {
  state.error = String((e as Error)?.stack ?? e);
  state.running = false;
  console.error(e);
  notice($('notices'), `<b>Stopped:</b> ${escapeHtml(String((e as Error)?.message ?? e))}`, 'error');
}


function detailForTests() {
  const d = state.detail;
  if (!d) return null;
  return {
    instance: d.instance, params: d.params,
    job: { ...d.job, params: Object.fromEntries(Object.entries(d.job.params).map(([k, v]) => [k, Array.from(v)])) },
    lanes: d.result.lanes,
    observed: d.result.observed.map((o) => ({ name: o.name, mean: o.mean[0], meanTangent: o.meanTangent.map((t) => t[0]) })),
    spikeCount: d.result.spikeCount[0], classes: d.result.classes,
  };
}

function exposeForTests(): void {
  exposeHook({
    page: 'ensemble',
    get ready() { return state.running && state.live !== null; },
    get error() { return state.error; },
    get backend() { return state.backend && { kind: state.backend.kind, label: backendLabel(state.backend), adapter: state.backend.adapter, reason: state.backend.reason }; },
    get config() { return state.config && { ...state.config, dist: { ...state.config.dist } }; },
    get simMs() { return state.live?.simMs ?? 0; },
    get step() { return state.live?.step ?? 0; },
    get selected() { return state.selected; },
    get classes() { return state.classes; },
    get rate() { return state.rate; },
    get caAxis() { return state.caAxis; },
    get software() { return Boolean(state.backend?.gpu?.isFallbackAdapter); },
    instanceParams: () => state.info?.instanceParams,
    params: () => (state.params ? Array.from(state.params) : null),
    traceEveryMs: () => (state.live ? state.live.options.traceEvery * state.live.dtMs : null),
    readTraceRow: async (row: number) => {
      const t = await state.live!.readTraceRow(row);
      return { values: Array.from(t.values), firstSample: t.firstSample, width: t.width };
    },
    spikeCounts: async () => {
      const ev = await state.live!.readEvents();
      return Array.from(ev.subarray(0, state.config!.N));
    },
    classifyNow: async () => {
      while (state.busy) await new Promise((r) => setTimeout(r, 5));
      state.busy = true;
      try { await classify(); } finally { state.busy = false; }
      return state.classes;
    },
    get detail() { return detailForTests(); },
    select: async (i: number) => {
      selectInstance(i);
      await state.detailPending;
      return detailForTests();
    },
    /** frames, simulated time and neuron-steps over `ms` of wall time */
    measure: async (ms: number) => {
      const a = { ...state.totals }, t0 = performance.now();
      await new Promise((r) => setTimeout(r, ms));
      const b = { ...state.totals }, dt = (performance.now() - t0) / 1000;
      return {
        wallS: dt, frames: b.frames - a.frames, fps: (b.frames - a.frames) / dt,
        simSecondsPerWallSecond: (b.simMs - a.simMs) / 1000 / dt, neuronStepsPerS: (b.neuronSteps - a.neuronSteps) / dt,
        stepsPerFrame: state.live?.stepsPerFrame, N: state.config?.N,
      };
    },
    setPaused: (p: boolean) => { state.paused = p; },
    /** GPU time of each view's drawing (ms per frame, averaged over `frames` submissions) */
    timeViews: async (frames = 10) => {
      const live = state.live!, r = state.renderer!, device = state.backend!.gpu!.device;
      while (state.busy) await new Promise((res) => setTimeout(res, 5));
      state.busy = true;
      try {
        const out: Record<string, number> = {};
        const frameState = { taken: live.samplesTaken, tNowMs: live.simMs, windowMs: live.windowMs };
        for (const [name, view] of Object.entries(state.views)) {
          await device.queue.onSubmittedWorkDone();
          const t0 = performance.now();
          for (let k = 0; k < frames; k++) {
            const encoder = device.createCommandEncoder();
            view.resize();
            view.writeUniform(state.sim!, frameState);
            view.encode(encoder, state.sim!);
            device.queue.submit([encoder.finish()]);
          }
          await device.queue.onSubmittedWorkDone();
          out[name] = (performance.now() - t0) / frames;
        }
        void r;
        return out;
      } finally {
        state.busy = false;
      }
    },
  });
}

async function main(): Promise<void> {
  exposeForTests();
  const backend = await chooseBackend(['webgpu']);
  state.backend = backend;
  $('status').innerHTML = backendPills(backend);
  const software = backend.kind === 'webgpu' && Boolean(backend.gpu!.isFallbackAdapter);
  const cfg = readConfig(software);
  state.config = cfg;
  setupControls(cfg);
  if (software && urlParam('n') === null) {
    notice($('notices'), `<b>Software GPU</b> (${escapeHtml(backend.adapter)}): started with ${cfg.N} neurons at dt ${cfg.dtMs} ms, and about 15 frames per second, so that the first activity classes (after 1 s of simulated time) come within about 20 s. A software adapter runs the simulation and the drawing on the CPU: 1,024 neurons at dt 0.025 ms take about a minute per simulated second, larger populations several.`);
  }
  if (backend.kind !== 'webgpu') {
    notice($('notices'), `<b>No WebGPU here</b> (${escapeHtml(backend.reason)}). The ensemble explorer draws live traces from GPU buffers and needs WebGPU (Chrome or Edge 113+, Safari 18+, Firefox 141+ on Windows). The <a href="./landscape.html">landscape explorer</a> runs on WebGL2 through gpu.js or on the CPU engine.`);
    state.error = null;
    return;
  }
  // a software adapter pays for every pixel and vertex in CPU time: draw at half resolution, spikes as points
  const scale = urlNumber('scale', software ? 0.5 : Math.min(window.devicePixelRatio || 1, 2));
  const renderer = new Renderer(backend.gpu!.device, scale);
  await renderer.init();
  state.renderer = renderer;
  state.views = {
    lines: renderer.addView('lines', $<HTMLCanvasElement>('lines'), { rows: 1, selected: -1 }),
    heatmap: renderer.addView('heatmap', $<HTMLCanvasElement>('heatmap'), { rows: 1, selected: -1 }),
    raster: renderer.addView('raster', $<HTMLCanvasElement>('raster'), { rows: 1, selected: -1 }),
    detailV: renderer.addView('lines', $<HTMLCanvasElement>('detail-v'), { rows: 1, selected: -1 }),
    detailCa: renderer.addView('lines', $<HTMLCanvasElement>('detail-ca'), { rows: 1, selected: -1 }),
  };
  const tracedRows = () => Math.min(state.config!.N, MAX_TRACED);
  $('heatmap').addEventListener('click', (e) => selectInstance(rowFromEvent($<HTMLCanvasElement>('heatmap'), e, tracedRows())));
  $('raster').addEventListener('click', (e) => selectInstance(rowFromEvent($<HTMLCanvasElement>('raster'), e, state.config!.N)));
  $('lines').addEventListener('click', (e) => {
    const p = state.views.lines.params;
    const lane = (p.lines ?? 1) - 1 - rowFromEvent($<HTMLCanvasElement>('lines'), e, p.lines ?? 1);
    selectInstance((p.firstRow ?? 0) + lane * (p.rowStride ?? 1));
  });
  $('restart').addEventListener('click', () => start(configFromControls()).catch(fail));
  $('model').addEventListener('change', () => start(configFromControls()).catch(fail));
  state.speedLimit = Math.max(0, urlNumber('speed', 1));
  $<HTMLSelectElement>('speed').value = String(state.speedLimit);
  $('speed').addEventListener('change', () => (state.speedLimit = Number($<HTMLSelectElement>('speed').value)));
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  });
  await start(cfg);
  requestAnimationFrame(loop);
}

main().catch(fail);
