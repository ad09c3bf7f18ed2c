/**
 * WebGPU drawing of the network explorer, straight from the simulation's buffers (per frame only a
 * uniform block per view is written from JavaScript):
 * - traces: the three cells' V from the centre network's trace ring, as per-column envelopes (the
 *   span from the lowest to the highest sample in a pixel column, so no spike falls between samples);
 * - phases: every spike of the three cells in the spike-time rings of the events buffer, folded on the
 *   network period: one row per cycle (the newest at the bottom), x = phase after the AB/PD burst
 *   onset, over the biological ranges of the burst onsets (Prinz 2004, Table 1) shaded;
 * - neighbourhood: every network of the neighbourhood as a dot coloured by its class, one strip per
 *   synapse (x = log of its factor), read from the neighbourhood session's parameter buffer, and in
 *   the strip's background the share of the classified networks in that column that are pyloric or
 *   pyloric-like (an atomic histogram filled on the GPU); or a scatter of two synapses' factors.
 *
 * As in the ensemble explorer (ensemble/render.ts), the marks are "splatted": a compute pass writes
 * colour codes into a per-view pixel buffer, and a full-screen triangle shows it, so a software
 * adapter pays per pixel and per mark, not per vertex.
 */
import { NETWORK_COLORS, CELL_COLORS } from './network.ts';
import { FULLSCREEN, canvasContext, compileShader, drawFullScreen, fitCanvas, fullScreenPipeline, splatBindGroupLayout, splatPipelines } from '../lib/shader.ts';

const vec3 = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return `vec3f(${(((n >> 16) & 255) / 255).toFixed(4)}, ${(((n >> 8) & 255) / 255).toFixed(4)}, ${((n & 255) / 255).toFixed(4)})`;
};

/** Pixel codes: 0 background, 1..3 the cells, 10 + class code for networks, 20 the centre marker. */
const CODE_CELL = 1, CODE_CLASS = 10, CODE_CENTRE = 20;
/** Columns of the per-strip histogram of classes. */
export const BINS = 32;
const SYNAPSES = 7;

const VIEW_STRUCT = /* wgsl */ `
struct View {
  mode: u32, n: u32, ring: u32, width: u32,
  taken: u32, spikeCap: u32, sources: u32, rows: u32,
  canvasW: f32, canvasH: f32, vMin: f32, vMax: f32,
  tNow: f32, period: f32, t0: f32, logSpread: f32,
  xSyn: u32, ySyn: u32, strips: u32, pad: u32,
  centre0: vec4f, centre1: vec4f,
}
fn centreOf(q: u32) -> f32 {
  if (q < 4u) { return view.centre0[q]; }
  return view.centre1[q - 4u];
}`;
const VIEW_BYTES = 112;

const COLORS = /* wgsl */ `
const BACKGROUND = vec3f(0.055, 0.063, 0.078);
fn cellColor(q: u32) -> vec3f {
  if (q == 0u) { return ${vec3(CELL_COLORS.ABPD)}; }
  if (q == 1u) { return ${vec3(CELL_COLORS.LP)}; }
  return ${vec3(CELL_COLORS.PY)};
}
fn classColor(c: u32) -> vec3f {
  if (c == 1u) { return ${vec3(NETWORK_COLORS['non-periodic'])}; }
  if (c == 2u) { return ${vec3(NETWORK_COLORS.periodic)}; }
  if (c == 3u) { return ${vec3(NETWORK_COLORS['pyloric-like'])}; }
  if (c == 4u) { return ${vec3(NETWORK_COLORS.pyloric)}; }
  if (c == 5u) { return ${vec3(NETWORK_COLORS.diverged)}; }
  return ${vec3(NETWORK_COLORS.unknown)};
}
fn hash(x: u32) -> f32 {
  var h = x * 747796405u + 2891336453u;
  h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
  return f32((h >> 22u) ^ h) / 4294967296.0;
}`;

const SPLAT = /* wgsl */ `${VIEW_STRUCT}
@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> trace: array<f32>;
@group(0) @binding(2) var<storage, read> events: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read> classes: array<f32>;
@group(0) @binding(5) var<storage, read_write> bins: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> image: array<u32>;
${COLORS}

// value of sample j (0 = oldest in the window) of the traced row 0, and 1 if it has been taken
fn sampleAt(j: i32, obs: u32) -> vec2f {
  let k = i32(view.taken) - i32(view.ring) + j;
  if (k < 0 || j < 0) { return vec2f(0.0, 0.0); }
  let slot = u32(k) % view.ring;
  return vec2f(trace[slot * view.width + obs], 1.0);
}

fn plot(x: u32, y: u32, code: u32) {
  let w = u32(view.canvasW);
  if (x < w && y < u32(view.canvasH)) { image[y * w + x] = code; }
}

// one invocation per (pixel column, cell): the envelope of the cell's V samples in the column (and the
// last sample of the column before, so steep edges join up), in the cell's lane
@compute @workgroup_size(64) fn traces(@builtin(global_invocation_id) gid: vec3u) {
  let w = u32(view.canvasW);
  let h = u32(view.canvasH);
  let c = gid.x;
  let lane = gid.y;
  if (c >= w || lane >= 3u) { return; }
  let j0 = i32(floor(f32(c) * f32(view.ring) / f32(w)));
  let j1 = max(j0, i32(floor(f32(c + 1u) * f32(view.ring) / f32(w))) - 1);
  var lo = 3.0e38;
  var hi = -3.0e38;
  var found = false;
  for (var j = max(j0 - 1, 0); j <= j1; j++) {
    let s = sampleAt(j, 2u * lane);
    if (s.y > 0.0) { lo = min(lo, s.x); hi = max(hi, s.x); found = true; }
  }
  if (!found) { return; }
  let band = f32(h) / 3.0;
  let top = f32(lane) * band + 0.04 * band;
  let span = 0.92 * band - 1.0;
  let yHi = u32(top + (1.0 - clamp((hi - view.vMin) / (view.vMax - view.vMin), 0.0, 1.0)) * span);
  let yLo = u32(top + (1.0 - clamp((lo - view.vMin) / (view.vMax - view.vMin), 0.0, 1.0)) * span);
  for (var y = yHi; y <= min(yLo, h - 1u); y++) { image[y * w + c] = ${CODE_CELL}u + lane; }
}

// one invocation per spike-ring entry (cell q, entry e) of instance 0: the spike folded on the period
@compute @workgroup_size(64) fn phases(@builtin(global_invocation_id) gid: vec3u) {
  let q = gid.y;
  let e = gid.x;
  if (q >= 3u || e >= view.spikeCap) { return; }
  let count = u32(events[q]);
  if (e >= min(count, view.spikeCap)) { return; }
  let t = events[view.sources + q * view.spikeCap + e];
  let cycles = (t - view.t0) / view.period;
  let newest = floor((view.tNow - view.t0) / view.period);
  let row = i32(floor(cycles) - newest) + i32(view.rows) - 1;
  if (row < 0 || row >= i32(view.rows)) { return; }
  let w = view.canvasW;
  let rowH = view.canvasH / f32(view.rows);
  let x = u32(fract(cycles) * w);
  let y0 = u32(f32(row) * rowH + (f32(q) + 0.15) * rowH / 3.0);
  let y1 = u32(f32(row) * rowH + (f32(q) + 0.85) * rowH / 3.0);
  for (var y = y0; y <= max(y0, y1); y++) { plot(x, y, ${CODE_CELL}u + q); }
}

// the factor of synapse q of network i, as x in [0, 1]: 0 at centre/spread, 1 at centre·spread
fn factorX(i: u32, q: u32) -> f32 {
  let c = centreOf(q);
  if (c <= 0.0 || view.logSpread <= 0.0) { return 0.5; }
  return clamp(0.5 + 0.5 * log(params[q * view.n + i] / c) / view.logSpread, 0.0, 0.9999);
}

// one invocation per (network, synapse): a dot in the synapse's strip, or (scatter) per network
@compute @workgroup_size(64) fn neighbours(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= view.n) { return; }
  let cls = u32(classes[i] + 0.5);
  let w = view.canvasW;
  let h = view.canvasH;
  if (view.strips == 0u) {
    let x = u32(factorX(i, view.xSyn) * w);
    let y = u32((1.0 - factorX(i, view.ySyn)) * h);
    plot(x, y, ${CODE_CLASS}u + cls); plot(x + 1u, y, ${CODE_CLASS}u + cls);
    plot(x, y + 1u, ${CODE_CLASS}u + cls); plot(x + 1u, y + 1u, ${CODE_CLASS}u + cls);
    return;
  }
  let stripH = h / f32(${SYNAPSES});
  for (var q = 0u; q < ${SYNAPSES}u; q++) {
    let fx = factorX(i, q);
    if (cls != 0u && cls != 5u) {
      let b = min(u32(fx * f32(${BINS})), ${BINS - 1}u);
      atomicAdd(&bins[(q * ${BINS}u + b) * 2u], 1u);
      if (cls == 3u || cls == 4u) { atomicAdd(&bins[(q * ${BINS}u + b) * 2u + 1u], 1u); }
    }
    let x = u32(fx * w);
    let y = u32(f32(q) * stripH + (0.12 + 0.76 * hash(i)) * stripH);
    plot(x, y, ${CODE_CLASS}u + cls); plot(x + 1u, y, ${CODE_CLASS}u + cls);
    plot(x, y + 1u, ${CODE_CLASS}u + cls); plot(x + 1u, y + 1u, ${CODE_CLASS}u + cls);
  }
  if (i == 0u) {
    // the centre network (neighbour 0) as a white cross in every strip
    for (var q = 0u; q < ${SYNAPSES}u; q++) {
      let x = u32(0.5 * w);
      for (var k = 0u; k < u32(stripH); k++) { if (k % 3u == 0u) { plot(x, u32(f32(q) * stripH) + k, ${CODE_CENTRE}u); } }
    }
  }
}
`;

/** The biological ranges of the burst onsets and ends as phases (Prinz 2004, Table 1). */
const PHASE_RANGES = { abpdEnd: [0.305, 0.464], lpStart: [0.426, 0.64], pyStart: [0.638, 0.877] };

const DISPLAY = /* wgsl */ `${VIEW_STRUCT}
@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> image: array<u32>;
@group(0) @binding(2) var<storage, read> bins: array<u32>;
${COLORS}
${FULLSCREEN}
fn inRange(x: f32, lo: f32, hi: f32) -> bool { return x >= lo && x <= hi; }
@fragment fn fs(in: VsOut) -> @location(0) vec4f {
  let w = u32(view.canvasW);
  let code = image[u32(in.pos.y) * w + u32(in.pos.x)];
  if (code >= ${CODE_CELL}u && code < ${CODE_CELL + 3}u) { return vec4f(cellColor(code - ${CODE_CELL}u), 1.0); }
  if (code == ${CODE_CENTRE}u) { return vec4f(0.85, 0.87, 0.9, 1.0); }
  if (code >= ${CODE_CLASS}u && code < ${CODE_CLASS + 6}u) { return vec4f(classColor(code - ${CODE_CLASS}u), 1.0); }
  var c = BACKGROUND;
  let fx = in.pos.x / view.canvasW;
  if (view.mode == 1u) {
    // phases: shade each cell's band where the biological range of its burst onset (LP, PY) or end (AB/PD) lies
    let rowH = view.canvasH / f32(view.rows);
    let band = u32(floor(fract(in.pos.y / rowH) * 3.0));
    if ((band == 0u && inRange(fx, ${PHASE_RANGES.abpdEnd[0]}, ${PHASE_RANGES.abpdEnd[1]})) ||
        (band == 1u && inRange(fx, ${PHASE_RANGES.lpStart[0]}, ${PHASE_RANGES.lpStart[1]})) ||
        (band == 2u && inRange(fx, ${PHASE_RANGES.pyStart[0]}, ${PHASE_RANGES.pyStart[1]}))) {
      c = mix(BACKGROUND, cellColor(band), 0.16);
    }
    if (fract(in.pos.y / rowH) < 1.0 / rowH) { c = mix(c, vec3f(0.3), 0.3); }
  }
  if (view.mode == 2u && view.strips != 0u) {
    // neighbourhood strips: the share of classified networks in this column that are pyloric(-like)
    let stripH = view.canvasH / f32(${SYNAPSES});
    let q = min(u32(in.pos.y / stripH), ${SYNAPSES - 1}u);
    let b = min(u32(fx * f32(${BINS})), ${BINS - 1}u);
    let total = bins[(q * ${BINS}u + b) * 2u];
    if (total > 0u) { c = mix(BACKGROUND, classColor(4u), 0.45 * f32(bins[(q * ${BINS}u + b) * 2u + 1u]) / f32(total)); }
    if (fract(in.pos.y / stripH) < 1.0 / stripH) { c = mix(c, vec3f(0.3), 0.4); }
  }
  return vec4f(c, 1.0);
}
`;

const UNIFORM = 0x40, STORAGE = 0x80, COPY_DST = 0x08;

export type ViewKind = 'traces' | 'phases' | 'neighbours';

/** The buffers a view reads: a session's, and the classes of its networks (one f32 code each). */
export interface ViewSource {
  trace: GPUBuffer;
  events: GPUBuffer;
  params: GPUBuffer;
  classes: GPUBuffer;
  /** instances in the session */
  n: number;
  ring: number;
  width: number;
  spikeCap: number;
  sources: number;
}

/** What changes per frame. */
export interface ViewFrame {
  /** trace samples taken (traces) */
  taken?: number;
  /** simulated time of the source session (ms) */
  tNowMs?: number;
  /** phases: the fold period and a reference AB/PD burst onset (ms); cycles shown */
  periodMs?: number;
  t0Ms?: number;
  cycles?: number;
  /** neighbours: the centre's strengths (nS), the spread, strips or a scatter of two synapses */
  centreNs?: readonly number[];
  spread?: number;
  strips?: boolean;
  xSyn?: number;
  ySyn?: number;
  vMin?: number;
  vMax?: number;
}

export class NetworkView {
  readonly uniform: GPUBuffer;
  readonly bins: GPUBuffer;
  frame: ViewFrame = {};
  private image: GPUBuffer | null = null;
  private source: ViewSource | null = null;
  private drawGroup: GPUBindGroup | null = null;
  private splatGroup: GPUBindGroup | null = null;

  constructor(readonly renderer: NetworkRenderer, readonly kind: ViewKind, readonly canvas: HTMLCanvasElement, readonly context: GPUCanvasContext) {
    const { device } = renderer;
    this.uniform = device.createBuffer({ size: VIEW_BYTES, usage: UNIFORM | COPY_DST });
    this.bins = device.createBuffer({ size: SYNAPSES * BINS * 2 * 4, usage: STORAGE | COPY_DST });
  }

  /** Sizes the drawing buffer and the splat image to the element; rebinds when the size changed. */
  resize(): void {
    if (!fitCanvas(this.canvas, this.renderer.scale) && this.image) return;
    this.image?.destroy();
    this.image = this.renderer.device.createBuffer({ size: 4 * this.canvas.width * this.canvas.height, usage: STORAGE | COPY_DST });
    if (this.source) this.bind(this.source);
  }

  bind(source: ViewSource): void {
    const { device } = this.renderer;
    this.source = source;
    if (!this.image) return;
    this.drawGroup = device.createBindGroup({
      layout: this.renderer.display.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.uniform } }, { binding: 1, resource: { buffer: this.image } }, { binding: 2, resource: { buffer: this.bins } }],
    });
    this.splatGroup = device.createBindGroup({
      layout: this.renderer.splatLayout,
      entries: [source.trace, source.events, source.params, source.classes, this.bins, this.image].map((buffer, k) => ({ binding: k + 1, resource: { buffer } }))
        .concat([{ binding: 0, resource: { buffer: this.uniform } }]),
    });
  }

  private writeUniform(s: ViewSource): void {
    const f = this.frame;
    const u = new ArrayBuffer(VIEW_BYTES);
    const U = new Uint32Array(u), F = new Float32Array(u);
    const mode = { traces: 0, phases: 1, neighbours: 2 }[this.kind];
    U.set([mode, s.n, s.ring, s.width, f.taken ?? 0, s.spikeCap, s.sources, Math.max(1, f.cycles ?? 1)]);
    F.set([this.canvas.width, this.canvas.height, f.vMin ?? -75, f.vMax ?? 45, f.tNowMs ?? 0, Math.max(1, f.periodMs ?? 1000), f.t0Ms ?? 0, Math.log(Math.max(1, f.spread ?? 1))], 8);
    U.set([f.xSyn ?? 0, f.ySyn ?? 1, f.strips === false ? 0 : 1, 0], 16);
    const centre = f.centreNs ?? [];
    for (let q = 0; q < SYNAPSES; q++) F[20 + q] = centre[q] ?? 0;
    this.renderer.device.queue.writeBuffer(this.uniform, 0, u);
  }

  encode(encoder: GPUCommandEncoder): void {
    const s = this.source, r = this.renderer;
    if (!s || !this.drawGroup || !this.splatGroup || !this.image) return;
    this.writeUniform(s);
    encoder.clearBuffer(this.image);
    if (this.kind === 'neighbours') encoder.clearBuffer(this.bins);
    const pass = encoder.beginComputePass();
    pass.setBindGroup(0, this.splatGroup);
    if (this.kind === 'traces') {
      pass.setPipeline(r.tracesSplat);
      pass.dispatchWorkgroups(Math.ceil(this.canvas.width / 64), 3);
    } else if (this.kind === 'phases') {
      pass.setPipeline(r.phasesSplat);
      pass.dispatchWorkgroups(Math.ceil(s.spikeCap / 64), 3);
    } else {
      const groups = Math.ceil(s.n / 64);
      pass.setPipeline(r.neighboursSplat);
      pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
    }
    pass.end();
    drawFullScreen(encoder, this.context, r.display, this.drawGroup);
  }

  destroy(): void {
    this.image?.destroy();
    this.uniform.destroy();
    this.bins.destroy();
  }
}

export class NetworkRenderer {
  readonly format: GPUTextureFormat;
  readonly splatLayout: GPUBindGroupLayout;
  display!: GPURenderPipeline;
  tracesSplat!: GPUComputePipeline;
  phasesSplat!: GPUComputePipeline;
  neighboursSplat!: GPUComputePipeline;
  readonly views: NetworkView[] = [];

  /** @param scale drawing-buffer pixels per CSS pixel (lower on a software adapter, where pixels cost CPU time) */
  constructor(readonly device: GPUDevice, readonly scale: number) {
    this.format = navigator.gpu.getPreferredCanvasFormat();
    // reads trace, events, parameters and classes; writes the class histogram and the image
    this.splatLayout = splatBindGroupLayout(device, 4, 2);
  }

  async init(): Promise<void> {
    const { device } = this;
    const [display, splat] = await Promise.all([compileShader(device, DISPLAY, 'display'), compileShader(device, SPLAT, 'splat')]);
    [this.display, this.tracesSplat, this.phasesSplat, this.neighboursSplat] = await Promise.all([
      fullScreenPipeline(device, display, this.format), ...splatPipelines(device, this.splatLayout, splat, ['traces', 'phases', 'neighbours']),
    ]);
  }

  addView(kind: ViewKind, canvas: HTMLCanvasElement): NetworkView {
    const view = new NetworkView(this, kind, canvas, canvasContext(this.device, canvas, this.format));
    this.views.push(view);
    return view;
  }

  /** Draws the views for this frame in one submission. */
  draw(views: NetworkView[] = this.views): void {
    const encoder = this.device.createCommandEncoder();
    for (const v of views) {
      v.resize();
      v.encode(encoder);
    }
    this.device.queue.submit([encoder.finish()]);
  }
}
