/**
 * Network explorer: the pyloric circuit of three Prinz 2004 cells, its seven synapses on sliders,
 * simulated live on WebGPU and drawn from the simulation's buffers (the three voltage traces and every
 * spike folded on the network period); the network class and the 15 features of its rhythm against
 * the biological ranges; and a neighbourhood of networks around it, each synapse multiplied by its own
 * factor, run in a second GPU session and coloured by class.
 *
 * URL parameters (all optional): cells=ABPD4,LP2,PY1, syn=3,100,10,1,10,3,10 (nS), dt, speed (× real
 * time, 0: unlimited), nb (neighbourhood size, 0: off), spread, seed, stopAtMs and nbStopAtMs (stop
 * the network or the neighbourhood there: the tests compare with the CPU engine), budget (the sessions'
 * dispatch target, ms: 12; the steps per frame follow the frame rate, adaptSimScale), init (cold, the
 * default, or isolated:MS: each cell alone for MS ms first, as the Prinz 2004 database), phasesEvery (draw the phase view every this many frames: 3), backend. `window.__ionsweep` exposes the state to the tests.
 */
import { PYLORIC_FEATURES } from '../../src/analysis/network.ts';
import { PYLORIC_CELL_CHOICES, PYLORIC_SYNAPSE_PARAMS } from '../../src/channels/pyloric.ts';
import type { StepProgram } from '../../src/compile/program.ts';
import { isolatedMs, isolatedStart } from '../../src/jobs/isolated-start.ts';
import type { Model } from '../../src/model/model.ts';
import { backendLabel, chooseBackend, type Backend } from '../lib/backend.ts';
import { exposeHook } from '../lib/hooks.ts';
import { $, backendPills, escapeHtml, fillSelect, fmt, notice, pill, urlNumber, urlParam } from '../lib/ui.ts';
import { LiveEnsemble } from '../ensemble/live.ts';
import {
  CELL_COLORS, DEFAULT_NETWORK, NETWORK_CODES, NETWORK_COLORS, ROLES, SYNAPSE_LABELS, cellChoices, classifyInstance, neighbourhoodParams, networkModel,
  networkProgram, type InstanceActivity, type Neighbourhood, type NetworkCode,
} from './network.ts';
import { StepController } from './steps.ts';
import { NetworkRenderer, type NetworkView, type ViewSource } from './render.ts';

/** Trace samples every 0.5 ms (a Prinz spike is 2–3 ms wide), 5 s in view: two to three cycles. */
const TRACE_EVERY_MS = 0.5;
const RING_SAMPLES = 10_000;
/** Classification: the last 8 s (four cycles of a 2-s rhythm: the rules need three after the first), from 2 s after a start or a change. */
const WINDOW_MS = 8000;
const SETTLE_MS = 2000;
const MAIN_CLASSIFY_EVERY_MS = 500;
const NB_CLASSIFY_EVERY_MS = 1500;
/** Cycles in the phase view. */
const CYCLES = 10;

interface Config {
  cells: [string, string, string];
  synapsesNs: number[];
  dtMs: number;
  nbN: number;
  spread: number;
  seed: number;
  stopAtMs: number | null;
  nbStopAtMs: number | null;
  /** `init=isolated:MS`: each cell alone for MS ms first (f64 CPU engine), then connected with every synaptic gate at 0; null: the cold start */
  isolatedMs: number | null;
}

interface Session {
  live: LiveEnsemble;
  steps: StepController;
  source: ViewSource;
  classes: GPUBuffer;
}

const state = {
  backend: null as Backend | null,
  config: null as Config | null,
  program: null as StepProgram | null,
  /** the network as it starts (its cold start holds the cells' isolated states with init=isolated:MS) */
  startModel: null as Model | null,
  nbProgram: null as StepProgram | null,
  renderer: null as NetworkRenderer | null,
  views: {} as Record<'traces' | 'phases' | 'nb', NetworkView>,
  main: null as Session | null,
  nb: null as (Session & { neighbourhood: Neighbourhood; start: Float32Array }) | null,
  mainActivity: null as InstanceActivity | null,
  /** simulated time of the network's last start or change (ms) */
  changedAtMs: 0,
  nbActivity: [] as InstanceActivity[],
  nbClassesAtMs: 0,
  lastMainClassify: 0,
  lastNbClassify: 0,
  /** the phase view's fold */
  fold: { periodMs: 1000, t0Ms: 0, from: 'no period yet: folded on 1 s' },
  speedLimit: 1,
  nbView: 'strips',
  /** the phase view is drawn every this many frames */
  phasesEvery: 3,
  /** what the neighbourhood view last drew (it is redrawn when this changes) */
  nbDrawn: '',
  paused: false,
  running: false,
  /** a test's exclusive operation (reads, timings) holds the page: no steps, no drawing */
  busy: false,
  /** a classification's readback is in flight (one at a time: the sessions' staging buffers) */
  classifying: false,
  /** steps per frame, as a multiple of each session's base count, following the frame rate (adaptSimScale) */
  simScale: 1,
  lastFrameAt: 0,
  error: null as string | null,
  generation: 0,
  totals: { frames: 0, ticks: 0, stalled: 0, simMs: 0, nbSimMs: 0, nbNetworkSteps: 0, classifyMs: 0, drawMs: 0 },
  rate: { fps: 0, simPerWall: 0, nbSimPerWall: 0, nbNetworkStepsPerS: 0 },
};

// ---- configuration ----

/** Slider position ↔ strength: 0 is 0 nS, then 10^((v − 100)/100) nS (0.1 … 316 nS). */
const sliderToNs = (v: number) => (v <= 0 ? 0 : 10 ** ((v - 100) / 100));
const nsToSlider = (g: number) => (g <= 0 ? 0 : Math.min(350, Math.max(1, Math.round(100 + 100 * Math.log10(g)))));

function readConfig(): Config {
  const cellsParam = urlParam('cells')?.split(',');
  const cells = ROLES.map((role, k) => (cellsParam?.[k] && cellChoices(role).includes(cellsParam[k]) ? cellsParam[k] : DEFAULT_NETWORK.cells[k])) as Config['cells'];
  const synParam = urlParam('syn')?.split(',').map(Number);
  const synapsesNs = DEFAULT_NETWORK.synapsesNs.map((g, q) => (synParam && Number.isFinite(synParam[q]) && synParam[q] >= 0 ? synParam[q] : g));
  const stop = urlParam('stopAtMs'), nbStop = urlParam('nbStopAtMs');
  return {
    cells, synapsesNs, dtMs: urlNumber('dt', 0.025),
    nbN: Math.max(0, Math.round(urlNumber('nb', 1024))), spread: Math.max(1, urlNumber('spread', 2)), seed: Math.round(urlNumber('seed', 1)),
    stopAtMs: stop === null ? null : Number(stop), nbStopAtMs: nbStop === null ? null : Number(nbStop),
    isolatedMs: isolatedStartMs(urlParam('init')),
  };
}

/** `init=isolated:MS` → MS; anything else (or nothing) → null, the cold start. */
function isolatedStartMs(init: string | null): number | null {
  try {
    return isolatedMs(init ?? undefined) ?? null;
  } catch {
    return null;
  }
}

function setupControls(cfg: Config): void {
  for (const [k, role] of ROLES.entries()) {
    const sel = $<HTMLSelectElement>(`cell-${role}`);
    fillSelect(sel, cellChoices(role).map((c) => ({ value: c, label: PYLORIC_CELL_CHOICES[c].name })), cfg.cells[k]);
    sel.onchange = () => restartAll({ ...state.config!, cells: ROLES.map((r) => $<HTMLSelectElement>(`cell-${r}`).value) as Config['cells'] });
  }
  $('synapses').innerHTML = SYNAPSE_LABELS.map((label, q) =>
    `<div class="syn"><span title="${PYLORIC_SYNAPSE_PARAMS[q]}">${escapeHtml(label)}</span><input id="syn-${q}" type="range" min="0" max="350" step="1"><input id="syn-${q}-value" type="number" min="0" step="any"></div>`).join('');
  SYNAPSE_LABELS.forEach((_, q) => {
    const slider = $<HTMLInputElement>(`syn-${q}`), box = $<HTMLInputElement>(`syn-${q}-value`);
    slider.value = String(nsToSlider(cfg.synapsesNs[q]));
    box.value = String(cfg.synapsesNs[q]);
    slider.oninput = () => {
      const g = Number(sliderToNs(Number(slider.value)).toPrecision(3));
      box.value = String(g);
      setSynapse(q, g);
    };
    box.onchange = () => {
      const g = Number(box.value);
      if (!(g >= 0 && Number.isFinite(g))) {
        box.value = String(state.config!.synapsesNs[q]);
        return;
      }
      slider.value = String(nsToSlider(g));
      setSynapse(q, g);
    };
  });
  $<HTMLSelectElement>('nb-n').value = String(cfg.nbN);
  if ($<HTMLSelectElement>('nb-n').value !== String(cfg.nbN)) {
    fillSelect($('nb-n'), [...$<HTMLSelectElement>('nb-n').options].map((o) => ({ value: o.value, label: o.text })).concat([{ value: String(cfg.nbN), label: `${cfg.nbN} networks` }]), String(cfg.nbN));
  }
  const spread = $<HTMLInputElement>('nb-spread');
  spread.value = String(cfg.spread);
  $('nb-spread-value').textContent = cfg.spread.toFixed(1);
  spread.oninput = () => ($('nb-spread-value').textContent = Number(spread.value).toFixed(1));
  spread.onchange = () => restartNeighbourhood({ ...state.config!, spread: Number(spread.value) }).catch(fail);
  $<HTMLSelectElement>('nb-n').onchange = () => restartNeighbourhood({ ...state.config!, nbN: Number($<HTMLSelectElement>('nb-n').value) }).catch(fail);
  fillSelect($('nb-view'), [{ value: 'strips', label: 'every synapse: networks by factor' }].concat(
    SYNAPSE_LABELS.flatMap((a, x) => SYNAPSE_LABELS.map((b, y) => ({ value: `${x},${y}`, label: `${a} (x) against ${b} (y)` })).filter((_, y) => y !== x))), state.nbView);
  $<HTMLSelectElement>('nb-view').onchange = () => {
    state.nbView = $<HTMLSelectElement>('nb-view').value;
    renderNeighbourhoodAxes();
  };
}

// ---- sessions ----

function gpu() {
  return state.backend!.gpu!;
}

async function createSession(program: StepProgram, n: number, params: Float32Array, options: { traced: boolean; spikeCapacity: number; maximaCapacity: number; budgetMs: number; minSteps: number }): Promise<Session> {
  const live = await LiveEnsemble.create(gpu(), program, {
    // untraced: no trace rows, and a sample interval so long that the live ring never laps
    N: n, params, traceRows: options.traced ? 1 : 0, ringSamples: options.traced ? RING_SAMPLES : 1,
    traceEvery: options.traced ? Math.max(1, Math.round(TRACE_EVERY_MS / program.dtMs)) : 1 << 30,
    spikeCapacity: options.spikeCapacity, maximaCapacity: options.maximaCapacity, frameBudgetMs: options.budgetMs,
  });
  const classes = gpu().device.createBuffer({ size: Math.max(16, 4 * n), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const layout = live.kernel.layout;
  const b = live.session.buffers;
  return {
    live, classes, steps: new StepController(Math.max(options.minSteps, 2e3 / n), options.budgetMs, options.minSteps),
    source: { trace: b.trace, events: b.events, params: b.params, classes, n, ring: options.traced ? RING_SAMPLES : 1, width: layout.traceWidth, spikeCap: layout.spikeCapacity, sources: layout.spikeSources },
  };
}

function destroySession(s: Session | null): void {
  s?.live.destroy();
  s?.classes.destroy();
}

async function waitIdle(): Promise<void> {
  while (state.busy || state.classifying || inFlight.size) await new Promise((r) => setTimeout(r, 5));
}

/** (Re)starts everything: compiles the network for its cells, the network from its cold start, and the neighbourhood. */
async function restartAll(cfg: Config): Promise<void> {
  const generation = ++state.generation;
  state.running = false;
  await waitIdle();
  destroySession(state.main);
  destroySession(state.nb);
  state.main = null;
  state.nb = null;
  state.config = cfg;
  setupControls(cfg);
  let model = networkModel(cfg.cells);
  if (cfg.isolatedMs !== null) {
    // as the Prinz 2004 database was built: each cell alone first (a network with every strength at 0
    // is its cells alone), its final state the network's start, synaptic gates at 0; on the f64 CPU
    // engine, on this thread (about a second for 10 s on a desktop)
    $('status').textContent = `bringing each cell to its isolated state (${fmt(cfg.isolatedMs / 1000)} s alone, f64 CPU engine)…`;
    await new Promise((r) => setTimeout(r, 0));
    model = await isolatedStart(model, cfg.isolatedMs, { values: {}, dtMs: cfg.dtMs, method: 'exp-euler' });
    if (generation !== state.generation) return;
  }
  state.startModel = model;
  state.program = networkProgram(model, cfg.dtMs);
  const budget = urlNumber('budget', 12);
  const main = await createSession(state.program, 1, Float32Array.from(cfg.synapsesNs), { traced: true, spikeCapacity: 512, maximaCapacity: 512, budgetMs: budget, minSteps: 200 });
  if (generation !== state.generation) { destroySession(main); return; }
  state.main = main;
  state.changedAtMs = 0;
  state.mainActivity = null;
  state.fold = { periodMs: 1000, t0Ms: 0, from: 'no period yet: folded on 1 s' };
  state.views.traces.bind(main.source);
  state.views.phases.bind(main.source);
  $('traces-sub').innerHTML = ROLES.map((r, k) => `<span style="color:${CELL_COLORS[r]}">${escapeHtml(PYLORIC_CELL_CHOICES[cfg.cells[k]].name)}</span>`).join('') +
    `<span class="muted">V, −75 … +45 mV; ${fmt((RING_SAMPLES * TRACE_EVERY_MS) / 1000)} s window</span>`;
  renderNetwork();
  await startNeighbourhood(cfg, generation);
  state.totals = { frames: 0, ticks: 0, stalled: 0, simMs: 0, nbSimMs: 0, nbNetworkSteps: 0, classifyMs: 0, drawMs: 0 };
  lastStats = { ...lastStats, frames: 0, stalled: 0, simMs: 0, nbSimMs: 0, nbNetworkSteps: 0 };
  state.running = true;
}

async function restartNeighbourhood(cfg: Config): Promise<void> {
  const generation = ++state.generation;
  const wasRunning = state.running;
  state.running = false;
  await waitIdle();
  state.config = cfg;
  await startNeighbourhood(cfg, generation);
  if (generation === state.generation) state.running = wasRunning || state.main !== null;
}

/** The neighbourhood around the current network, started from the network's state now. */
async function startNeighbourhood(cfg: Config, generation: number): Promise<void> {
  destroySession(state.nb);
  state.nb = null;
  state.nbActivity = [];
  state.nbClassesAtMs = 0;
  if (cfg.nbN > 0 && state.main) {
    const neighbourhood: Neighbourhood = { centreNs: [...cfg.synapsesNs], spread: cfg.spread, seed: cfg.seed, N: cfg.nbN };
    const budget = urlNumber('budget', 12);
    const nb = await createSession(state.program!, cfg.nbN, neighbourhoodParams(neighbourhood), { traced: false, spikeCapacity: 4, maximaCapacity: cfg.nbN <= 4096 ? 256 : 96, budgetMs: budget, minSteps: 1 });
    if (generation !== state.generation) { destroySession(nb); return; }
    // up to 4,096 networks keep 256 maxima per cell (a 2-s rhythm of 20-spike bursts fills 8 s with
    // ~100); larger neighbourhoods keep 96, as the page reads every network's rings back each time it classifies
    // every network starts where the centre network is now
    const start = await state.main.live.readState(0);
    const S = start.length, N = cfg.nbN;
    const table = new Float32Array(S * N);
    for (let k = 0; k < S; k++) table.fill(start[k], k * N, (k + 1) * N);
    gpu().device.queue.writeBuffer(nb.live.session.buffers.state, 0, table);
    state.nb = { ...nb, neighbourhood, start };
    state.views.nb.bind(nb.source);
  } else {
    state.views.nb.bind(emptySource());
  }
  renderNeighbourhood();
  renderNeighbourhoodAxes();
}

let empty: ViewSource | null = null;
function emptySource(): ViewSource {
  if (!empty) {
    const b = gpu().device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    empty = { trace: b, events: b, params: b, classes: b, n: 0, ring: 1, width: 1, spikeCap: 1, sources: 3 };
  }
  return empty;
}

/** Moves one synapse of the running network (its parameter buffer), then restarts the neighbourhood around it. */
let nbRestartTimer: ReturnType<typeof setTimeout> | null = null;
function setSynapse(q: number, g: number): void {
  const cfg = state.config!;
  cfg.synapsesNs[q] = g;
  if (state.main) {
    gpu().device.queue.writeBuffer(state.main.live.session.buffers.params, 4 * q, Float32Array.of(g));
    state.changedAtMs = state.main.live.simMs;
    state.mainActivity = null;
    renderNetwork();
  }
  if (nbRestartTimer) clearTimeout(nbRestartTimer);
  nbRestartTimer = setTimeout(() => restartNeighbourhood({ ...state.config! }).catch(fail), 400);
}

// ---- frame loop ----

/** Submissions of steps the GPU has not finished; a frame adds one (both sessions' steps) while fewer than MAX_IN_FLIGHT are pending. */
const inFlight = new Set<Promise<void>>();
/** A submission is done only once the GPU process has also drawn the frames queued before its check: ~3 frames on SwiftShader. */
const MAX_IN_FLIGHT = 3;
/**
 * Steps per submission at simScale 1: the network's (5 ms at dt 0.025 ms; never fewer than
 * MAIN_MIN_STEPS, since one network's dispatch costs little beyond its fixed cost), and the
 * neighbourhood's per 1,024 networks (below one step, the neighbourhood steps every few frames).
 */
const MAIN_BASE_STEPS = 200;
const MAIN_MIN_STEPS = 100;
const NB_BASE_STEPS_PER_1024 = 2;
/** Frames per second the page holds by running fewer steps per frame (simulated time per wall second drops instead). */
const FPS_TARGET = 30;

/** The steps each session takes in the next submission at the current scale (before stops and the speed limit). */
function stepsAtScale(nbN: number): { main: number; nb: number; nbEvery: number } {
  const nb = ((NB_BASE_STEPS_PER_1024 * 1024) / Math.max(1, nbN)) * state.simScale;
  return {
    main: Math.max(MAIN_MIN_STEPS, Math.round(MAIN_BASE_STEPS * state.simScale)),
    nb: Math.max(1, Math.round(nb)),
    nbEvery: nb >= 1 ? 1 : Math.round(1 / nb),
  };
}

/**
 * Each frame submits both sessions' steps and draws, without waiting for either: the queue runs the
 * drawing after the steps, and the step counters move at submission, so what is drawn is the state
 * after the steps just submitted. (Waiting for the steps in the frame tied the frame rate to their
 * round trips to the GPU process: 17–23 frames/s with 1,024 neighbours on SwiftShader, on a loaded
 * host.) At most MAX_IN_FLIGHT submissions are pending; a frame that finds them pending draws without
 * stepping, so a GPU slower than the steps asked of it slows the simulation, not the frames.
 */
function submitSteps(): void {
  const main = state.main, cfg = state.config;
  if (!main || !cfg || !state.running || state.paused) return;
  if (inFlight.size >= MAX_IN_FLIGHT) {
    state.totals.stalled++;
    return;
  }
  const t0 = performance.now();
  const nb = state.nb;
  const at = stepsAtScale(nb?.neighbourhood.N ?? 0);
  let mainSteps = at.main;
  if (cfg.stopAtMs !== null) mainSteps = Math.min(mainSteps, Math.max(0, Math.round(cfg.stopAtMs / cfg.dtMs) - main.live.step));
  // a speed limit (× real time) caps the simulated time per frame at the wall time since the last submission
  if (state.speedLimit > 0 && state.lastFrameAt > 0) mainSteps = Math.min(mainSteps, Math.max(1, Math.round((state.speedLimit * Math.min(100, t0 - state.lastFrameAt)) / cfg.dtMs)));
  let nbSteps = 0;
  if (nb && state.totals.ticks % at.nbEvery === 0) {
    nbSteps = at.nb;
    if (cfg.nbStopAtMs !== null) nbSteps = Math.min(nbSteps, Math.max(0, Math.round(cfg.nbStopAtMs / cfg.dtMs) - nb.live.step));
  }
  state.lastFrameAt = t0;
  if (mainSteps <= 0 && nbSteps <= 0) return;
  const simBefore = main.live.simMs, nbBefore = nb?.live.simMs ?? 0;
  // interleaved, a failure in one session's submission may be reported under the other's description; it is still reported
  const pending = Promise.all([mainSteps > 0 ? main.live.submit(mainSteps) : null, nb && nbSteps > 0 ? nb.live.submit(nbSteps) : null]).then(() => undefined);
  inFlight.add(pending);
  pending.catch((e) => fail(e)).finally(() => inFlight.delete(pending));
  state.totals.ticks++;
  state.totals.simMs += main.live.simMs - simBefore;
  if (nb) {
    state.totals.nbSimMs += nb.live.simMs - nbBefore;
    state.totals.nbNetworkSteps += nbSteps * nb.neighbourhood.N;
  }
}

/** Starts the classifications that are due (their readbacks run after the steps submitted so far; frames do not wait). */
function classifyDue(): void {
  const main = state.main, nb = state.nb;
  if (!main || state.classifying || !state.running) return;
  const now = performance.now();
  let job: (() => Promise<void>) | null = null;
  if (now - state.lastMainClassify > MAIN_CLASSIFY_EVERY_MS && main.live.simMs >= state.changedAtMs + SETTLE_MS + WINDOW_MS / 2) {
    state.lastMainClassify = now;
    job = classifyMain;
  } else if (nb && now - state.lastNbClassify > NB_CLASSIFY_EVERY_MS && nb.live.simMs >= SETTLE_MS + WINDOW_MS && nb.live.simMs !== state.nbClassesAtMs) {
    state.lastNbClassify = now;
    job = classifyNeighbourhood;
  }
  if (!job) return;
  state.classifying = true;
  const t0 = performance.now();
  job()
    .catch((e) => fail(e))
    .finally(() => {
      state.classifying = false;
      state.totals.classifyMs += performance.now() - t0;
    });
}

/**
 * Once a second, the steps per frame follow the frame rate: fewer while frames fall under the
 * target, more while they stay well above it. Frames that find submissions pending say little here:
 * a submission's check waits for the frames drawn before it, so about half the frames find 3 pending
 * whatever the steps cost; steps that cost too much show as fewer frames.
 */
function adaptSimScale(fps: number): void {
  if (fps < FPS_TARGET + 1) state.simScale = Math.max(1 / 256, state.simScale * 0.7);
  else if (fps > FPS_TARGET + 6) state.simScale = Math.min(4096, state.simScale * 1.5);
}

function draw(): void {
  const main = state.main!, nb = state.nb, cfg = state.config!;
  state.views.traces.frame = { taken: main.live.samplesTaken, tNowMs: main.live.simMs };
  state.views.phases.frame = { tNowMs: main.live.simMs, periodMs: state.fold.periodMs, t0Ms: state.fold.t0Ms, cycles: CYCLES };
  const pair = state.nbView === 'strips' ? null : state.nbView.split(',').map(Number);
  state.views.nb.frame = { centreNs: nb?.neighbourhood.centreNs ?? cfg.synapsesNs, spread: nb?.neighbourhood.spread ?? cfg.spread, strips: !pair, xSyn: pair?.[0] ?? 0, ySyn: pair?.[1] ?? 1 };
  // the phase view gains a few spikes a frame (a cycle lasts seconds): every `phasesEvery`th frame
  // suffices, and each canvas drawn costs a software adapter its compositing too
  const views = [state.views.traces];
  if (state.totals.frames % state.phasesEvery === 0) views.push(state.views.phases);
  // the neighbourhood view changes only with its classes, its networks or its layout: drawn then
  const key = `${state.nbView}|${state.nbClassesAtMs}|${nb?.neighbourhood.N ?? 0}|${state.generation}|${state.views.nb.canvas.clientWidth}x${state.views.nb.canvas.clientHeight}`;
  if (key !== state.nbDrawn) {
    views.push(state.views.nb);
    state.nbDrawn = key;
  }
  state.renderer!.draw(views);
}

function loop(): void {
  requestAnimationFrame(loop);
  if (state.busy || !state.running || !state.main) return;
  submitSteps();
  classifyDue();
  const t0 = performance.now();
  draw();
  state.totals.drawMs += performance.now() - t0;
  state.totals.frames++;
  updateStatus();
}

let lastStats = { at: performance.now(), frames: 0, stalled: 0, simMs: 0, nbSimMs: 0, nbNetworkSteps: 0 };

function updateStatus(): void {
  const now = performance.now();
  if (now - lastStats.at < 1000) return;
  const dt = (now - lastStats.at) / 1000;
  const t = state.totals;
  state.rate = {
    fps: (t.frames - lastStats.frames) / dt,
    simPerWall: (t.simMs - lastStats.simMs) / 1000 / dt,
    nbSimPerWall: (t.nbSimMs - lastStats.nbSimMs) / 1000 / dt,
    nbNetworkStepsPerS: (t.nbNetworkSteps - lastStats.nbNetworkSteps) / dt,
  };
  adaptSimScale(state.rate.fps);
  lastStats = { at: now, frames: t.frames, stalled: t.stalled, simMs: t.simMs, nbSimMs: t.nbSimMs, nbNetworkSteps: t.nbNetworkSteps };
  const main = state.main, nb = state.nb, cfg = state.config;
  if (!state.backend) return;
  const stopped = main && cfg?.stopAtMs !== null && main.live.step >= Math.round(cfg!.stopAtMs! / cfg!.dtMs);
  $('status').innerHTML = backendPills(state.backend) +
    (main
      ? pill('t', `${fmt(main.live.simMs / 1000, 4)} s${state.paused ? ' (paused)' : stopped ? ' (stopped)' : ''}`) +
        pill('start', cfg!.isolatedMs !== null ? `cells ${fmt(cfg!.isolatedMs / 1000)} s alone, then connected` : 'cold') +
        pill('speed', `${fmt(state.rate.simPerWall)} sim s / wall s`) +
        (nb ? pill('neighbourhood', cfg!.nbStopAtMs !== null && nb.live.step >= Math.round(cfg!.nbStopAtMs / cfg!.dtMs)
          ? `${nb.neighbourhood.N.toLocaleString('en')} networks, stopped at ${fmt(nb.live.simMs / 1000, 4)} s`
          : `${nb.neighbourhood.N.toLocaleString('en')} × ${fmt(state.rate.nbSimPerWall)} sim s / wall s`) : '') +
        pill('fps', fmt(state.rate.fps))
      : '');
  if (main) {
    $('t-left').textContent = `${fmt(Math.max(0, main.live.simMs - main.live.windowMs) / 1000, 4)} s`;
    $('t-right').textContent = `${fmt(main.live.simMs / 1000, 4)} s`;
  }
  if (nb) renderNeighbourhoodProgress();
}

// ---- classification (host side, from the voltage maxima the kernel records) ----

function classifyWindow(simMs: number, changedAtMs: number): [number, number] {
  return [Math.max(changedAtMs + SETTLE_MS, simMs - WINDOW_MS), simMs];
}

async function classifyMain(): Promise<void> {
  const main = state.main!;
  const changedAt = state.changedAtMs;
  // the readback runs after every step submitted so far: the window ends where they end
  const [from, to] = classifyWindow(main.live.simMs, changedAt);
  const events = await main.live.readEvents();
  if (state.main !== main || changedAt !== state.changedAtMs) return;
  const a = classifyInstance(events, main.live.kernel.layout, 1, 0, from, to);
  state.mainActivity = a;
  // the phase view folds on the network period (or AB/PD's own), from AB/PD's latest burst onset
  const period = a.network?.periodMs ?? a.cells[0]?.burstPeriodMs ?? null;
  const onset = a.network?.cycle?.ABPD?.onsetMs ?? a.abpdOnsetMs;
  if (period && onset !== null) {
    state.fold = { periodMs: period, t0Ms: onset, from: a.network?.periodMs ? `folded on the network period, ${fmt(period, 4)} ms` : `folded on AB/PD's burst period, ${fmt(period, 4)} ms` };
  } else state.fold = { periodMs: 1000, t0Ms: 0, from: 'AB/PD does not burst: folded on 1 s' };
  renderNetwork();
}

async function classifyNeighbourhood(): Promise<void> {
  const nb = state.nb!;
  const [from, to] = classifyWindow(nb.live.simMs, 0);
  const events = await nb.live.readEvents();
  if (state.nb !== nb) return;
  const N = nb.neighbourhood.N;
  const codes = new Float32Array(N);
  const activity: InstanceActivity[] = new Array(N);
  for (let i = 0; i < N; i++) {
    activity[i] = classifyInstance(events, nb.live.kernel.layout, N, i, from, to);
    codes[i] = NETWORK_CODES[activity[i].class];
  }
  state.nbActivity = activity;
  state.nbClassesAtMs = to;
  gpu().device.queue.writeBuffer(nb.classes, 0, codes);
  renderNeighbourhood();
}

// ---- panels ----

function renderNetwork(): void {
  const a = state.mainActivity;
  const cls = a?.class ?? 'unknown';
  if (!a) {
    const ready = state.changedAtMs + SETTLE_MS + WINDOW_MS / 2;
    $('network-class').innerHTML = `<span style="color:${NETWORK_COLORS.unknown}">not yet classified</span>`;
    $('network-reason').textContent = `classified from ${fmt(ready / 1000, 3)} s of simulated time (${fmt(SETTLE_MS / 1000)} s after the start or the last change, then at least ${fmt(WINDOW_MS / 2000)} s of rhythm)`;
  } else {
    $('network-class').innerHTML = `<span style="color:${NETWORK_COLORS[cls as NetworkCode]}">${cls}</span>${a.network?.periodMs ? ` <span class="muted">period ${fmt(a.network.periodMs, 4)} ms</span>` : ''}`;
    $('network-reason').textContent = a.network?.reason || (cls === 'diverged' ? 'a state left the finite range' : 'every feature in its range');
  }
  $('network-sub').textContent = a ? `over ${fmt(a.windowMs[0] / 1000, 4)} … ${fmt(a.windowMs[1] / 1000, 4)} s` : '';
  $('phases-sub').textContent = `${CYCLES} cycles, newest at the bottom; ${state.fold.from}; shaded: the biological ranges of AB/PD's burst end, LP's and PY's burst onsets`;
  const features = a?.network?.features;
  $('features').innerHTML = PYLORIC_FEATURES.map(([name, lo, hi]) => {
    const v = features?.[name] ?? null;
    const pad = (hi - lo) * 0.6;
    const x = (u: number) => Math.min(100, Math.max(0, ((u - (lo - pad)) / (hi - lo + 2 * pad)) * 100));
    const inside = v !== null && v >= lo && v <= hi;
    const mark = v === null ? '' : `<div class="mark" style="left:${x(v)}%; background:${inside ? NETWORK_COLORS.pyloric : NETWORK_COLORS.diverged}"></div>`;
    return `<tr data-feature="${name}"><td>${escapeHtml(name)}</td><td style="color:${v === null ? 'var(--muted)' : inside ? 'var(--text)' : NETWORK_COLORS.diverged}">${v === null ? '–' : fmt(v, 4)}</td>` +
      `<td class="muted">${lo} … ${hi}</td><td class="bar"><div class="rangebar"><div class="ok" style="left:${x(lo)}%; width:${x(hi) - x(lo)}%"></div>${mark}</div></td></tr>`;
  }).join('');
}

function nbCounts(): Record<NetworkCode, number> {
  const counts = Object.fromEntries(Object.keys(NETWORK_CODES).map((k) => [k, 0])) as Record<NetworkCode, number>;
  for (const a of state.nbActivity) counts[a.class]++;
  if (!state.nbActivity.length) counts.unknown = state.nb?.neighbourhood.N ?? 0;
  return counts;
}

function renderNeighbourhood(): void {
  const nb = state.nb;
  if (!nb) {
    $('nb-legend').innerHTML = '<span class="muted">off</span>';
    $('nb-sub').textContent = '';
    return;
  }
  const counts = nbCounts();
  const N = nb.neighbourhood.N;
  $('nb-legend').innerHTML = (Object.keys(NETWORK_CODES) as NetworkCode[])
    .filter((k) => (k !== 'unknown' && k !== 'diverged') || counts[k] > 0)
    .map((k) => `<span data-class="${k}"><span class="sw" style="background:${NETWORK_COLORS[k]}"></span>${k === 'unknown' ? 'not yet classified' : k} <b>${counts[k]}</b> <span class="muted">(${fmt((100 * counts[k]) / N, 3)} %)</span></span>`)
    .join('') + (state.nbClassesAtMs ? `<span class="muted">over ${fmt(classifyWindow(state.nbClassesAtMs, 0)[0] / 1000, 3)} … ${fmt(state.nbClassesAtMs / 1000, 3)} s</span>` : '');
  renderNeighbourhoodProgress();
}

function renderNeighbourhoodProgress(): void {
  const nb = state.nb;
  if (!nb) return;
  const need = SETTLE_MS + WINDOW_MS;
  $('nb-sub').textContent = `${nb.neighbourhood.N.toLocaleString('en')} networks, each synapse ×/÷ ${nb.neighbourhood.spread} (log-uniform), from the network's state at its start; t = ${fmt(nb.live.simMs / 1000, 3)} s` +
    (state.nbClassesAtMs ? '' : ` of the ${fmt(need / 1000)} s the first classification needs`);
}

function renderNeighbourhoodAxes(): void {
  const spread = state.nb?.neighbourhood.spread ?? state.config?.spread ?? 2;
  const strips = state.nbView === 'strips';
  const pair = strips ? null : state.nbView.split(',').map(Number);
  $('nb-labels').innerHTML = strips
    ? SYNAPSE_LABELS.map((l) => `<span style="align-self:center">${escapeHtml(l)}</span>`).join('')
    : `<span style="align-self:start">${escapeHtml(SYNAPSE_LABELS[pair![1]])} ×${fmt(spread)}</span><span style="align-self:center">${escapeHtml(SYNAPSE_LABELS[pair![1]])}</span><span style="align-self:end">÷${fmt(spread)}</span>`;
  $('nb-left').textContent = `÷ ${fmt(spread)}`;
  $('nb-right').textContent = `× ${fmt(spread)}`;
  $('nb-axis').textContent = strips ? 'factor on each synapse (log) → ; background: share pyloric or pyloric-like' : `factor on ${SYNAPSE_LABELS[pair![0]]} (log) →`;
}

// ---- errors, test hooks, start-up ----

function fail(e: unknown): void {
  state.error = String((e as Error)?.stack ?? e);
  state.running = false;
  console.error(e);
  notice($('notices'), `<b>Stopped:</b> ${escapeHtml(String((e as Error)?.message ?? e))}`, 'error');
}

const summary = (a: InstanceActivity | null) => a && { class: a.class, periodMs: a.network?.periodMs ?? null, reason: a.network?.reason ?? '', features: a.network?.features ?? null, windowMs: a.windowMs, cells: a.cells.map((c) => c.class) };

async function exclusive<T>(f: () => Promise<T>): Promise<T> {
  await waitIdle();
  state.busy = true;
  try {
    return await f();
  } finally {
    state.busy = false;
  }
}

function exposeForTests(): void {
  exposeHook({
    page: 'network',
    get ready() { return state.running && state.main !== null; },
    get error() { return state.error; },
    get backend() { return state.backend && { kind: state.backend.kind, label: backendLabel(state.backend), adapter: state.backend.adapter, reason: state.backend.reason }; },
    get config() { return state.config && { ...state.config, cells: [...state.config.cells], synapsesNs: [...state.config.synapsesNs] }; },
    get simMs() { return state.main?.live.simMs ?? 0; },
    /** the network's start: every state whose start is a number (all cell states with init=isolated:MS), by name */
    startValues: () => state.startModel && Object.fromEntries(state.startModel.states.filter((s) => s.init.cold.op === 'const').map((s) => [s.name, s.init.cold.value])),
    get nbSimMs() { return state.nb?.live.simMs ?? 0; },
    get rate() { return state.rate; },
    get activity() { return summary(state.mainActivity); },
    get fold() { return state.fold; },
    traceEveryMs: () => (state.main ? state.main.live.options.traceEvery * state.main.live.dtMs : null),
    // reads go through `exclusive`: a frame's classification maps the same staging buffer
    readTrace: () => exclusive(async () => {
      const t = await state.main!.live.readTraceRow(0);
      return { values: Array.from(t.values), firstSample: t.firstSample, width: t.width };
    }),
    classifyNow: () => exclusive(async () => { await classifyMain(); return summary(state.mainActivity); }),
    /** the neighbourhood: its start state (by state name), parameter table ([7][N]) and classes */
    neighbourhood: () => state.nb && {
      N: state.nb.neighbourhood.N, spread: state.nb.neighbourhood.spread, seed: state.nb.neighbourhood.seed, centreNs: [...state.nb.neighbourhood.centreNs],
      start: Object.fromEntries(state.program!.states.map((s, k) => [s.name, state.nb!.start[k]])),
      params: Array.from(neighbourhoodParams(state.nb.neighbourhood)),
    },
    classifyNeighbourhoodNow: () => exclusive(async () => {
      await classifyNeighbourhood();
      return state.nbActivity.map((a) => summary(a));
    }),
    setSynapse: (q: number, g: number) => setSynapse(q, g),
    setPaused: (p: boolean) => { state.paused = p; },
    /** GPU time of each view's drawing and of each session's steps (ms per frame, over `frames` submissions) */
    timeFrame: (frames = 10) => exclusive(async () => {
      const device = gpu().device;
      const out: Record<string, number> = {};
      const time = async (name: string, f: () => Promise<void> | void) => {
        await device.queue.onSubmittedWorkDone();
        const t0 = performance.now();
        for (let k = 0; k < frames; k++) await f();
        await device.queue.onSubmittedWorkDone();
        out[name] = (performance.now() - t0) / frames;
      };
      draw();
      for (const [name, view] of Object.entries(state.views)) await time(`draw ${name}`, () => state.renderer!.draw([view]));
      const main = state.main!, nb = state.nb;
      await time(`network, ${main.steps.steps} steps`, () => main.live.advance(main.steps.steps));
      if (nb) await time(`neighbourhood, ${nb.steps.steps} steps`, () => nb.live.advance(nb.steps.steps));
      return out;
    }),
    /** frames, simulated time and network-steps over `ms` of wall time */
    measure: async (ms: number) => {
      const a = { ...state.totals }, t0 = performance.now();
      await new Promise((r) => setTimeout(r, ms));
      const b = { ...state.totals }, dt = (performance.now() - t0) / 1000;
      return {
        wallS: dt, frames: b.frames - a.frames, fps: (b.frames - a.frames) / dt,
        simSecondsPerWallSecond: (b.simMs - a.simMs) / 1000 / dt,
        neighbourhoodSimSecondsPerWallSecond: (b.nbSimMs - a.nbSimMs) / 1000 / dt,
        neighbourhoodNetworkStepsPerS: (b.nbNetworkSteps - a.nbNetworkSteps) / dt,
        // each frame submits both sessions' steps (unless MAX_IN_FLIGHT submissions are pending: a
        // stalled frame) and draws; per frame (ms): encoding the drawing (the rest of a frame's period
        // is the wait for the next animation frame); classification runs apart, its time per frame shown too
        submissions: b.ticks - a.ticks, stalledFrames: b.stalled - a.stalled,
        msPerFrame: { draw: (b.drawMs - a.drawMs) / Math.max(1, b.frames - a.frames), classify: (b.classifyMs - a.classifyMs) / Math.max(1, b.frames - a.frames) },
        stepsPerSubmission: stepsAtScale(state.nb?.neighbourhood.N ?? 0).main,
        neighbourhoodStepsPerSubmission: state.nb ? stepsAtScale(state.nb.neighbourhood.N).nb : 0,
        neighbourhoodSubmittedEveryFrames: state.nb ? stepsAtScale(state.nb.neighbourhood.N).nbEvery : 0,
        simScale: state.simScale, neighbourhood: state.nb?.neighbourhood.N ?? 0,
      };
    },
  });
}

async function main(): Promise<void> {
  exposeForTests();
  const backend = await chooseBackend(['webgpu']);
  state.backend = backend;
  $('status').innerHTML = backendPills(backend);
  const cfg = readConfig();
  state.config = cfg;
  setupControls(cfg);
  if (backend.kind !== 'webgpu') {
    notice($('notices'), `<b>No WebGPU here</b> (${escapeHtml(backend.reason)}). The network explorer runs its networks on WebGPU and draws from the GPU's buffers (Chrome or Edge 113+, Safari 18+, Firefox 141+ on Windows). The <a href="./landscape.html">landscape explorer</a> runs on WebGL2 through gpu.js or on the CPU engine.`);
    return;
  }
  // a software adapter pays for every pixel in CPU time: draw at half resolution there
  const software = backend.gpu!.isFallbackAdapter;
  const renderer = new NetworkRenderer(backend.gpu!.device, urlNumber('scale', software ? 0.5 : Math.min(window.devicePixelRatio || 1, 2)));
  await renderer.init();
  state.renderer = renderer;
  state.views = {
    traces: renderer.addView('traces', $<HTMLCanvasElement>('traces')),
    phases: renderer.addView('phases', $<HTMLCanvasElement>('phases')),
    nb: renderer.addView('neighbours', $<HTMLCanvasElement>('nb')),
  };
  state.speedLimit = Math.max(0, urlNumber('speed', 1));
  state.phasesEvery = Math.max(1, Math.round(urlNumber('phasesEvery', 3)));
  $<HTMLSelectElement>('speed').value = String(state.speedLimit);
  $('speed').addEventListener('change', () => (state.speedLimit = Number($<HTMLSelectElement>('speed').value)));
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  });
  $('restart').addEventListener('click', () => restartAll({ ...state.config! }).catch(fail));
  $('nb-restart').addEventListener('click', () => restartNeighbourhood({ ...state.config!, seed: state.config!.seed + 1 }).catch(fail));
  await restartAll(cfg);
  requestAnimationFrame(loop);
}

main().catch(fail);
