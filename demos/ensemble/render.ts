/**
 * WebGPU drawing of a live ensemble, straight from the simulation's buffers (only small uniforms are
 * written from JavaScript per frame):
 * - population: every traced instance's voltage trace as one row of an image (a fragment shader reads
 *   the trace ring), each instance's activity class in a strip on the left;
 * - raster: every spike in the window, read from the spike-time rings of the events buffer;
 * - traces: chosen instances as lines, drawn as envelopes (per pixel column, the span from the minimum
 *   to the maximum of the samples in it), so a spike never falls between two drawn samples; a compute
 *   pass can autoscale a trace by reducing its ring to its extremes.
 *
 * The raster and the traces are "splatted": a compute pass writes colour codes into a per-view pixel
 * buffer at the canvas's resolution, and a full-screen pass shows it. Per-vertex work is what software
 * adapters (SwiftShader) are slowest at, and this keeps it at three vertices per view, with a cost that
 * grows with pixels and spikes, not with N × ring length.
 */
import { FULLSCREEN, canvasContext, compileShader, drawFullScreen, fitCanvas, fullScreenPipeline, splatBindGroupLayout, splatPipelines } from '../lib/shader.ts';

/** `diverged`: a state left the finite range (engine/results.ts); never an activity class */
export const CLASS_CODES = { unknown: 0, silent: 1, tonic: 2, bursting: 3, irregular: 4, diverged: 5 } as const;
export const CLASS_COLORS: Record<keyof typeof CLASS_CODES, string> = {
  unknown: '#5b6270', silent: '#8d99ae', tonic: '#4cc9f0', bursting: '#f8961e', irregular: '#c77dff', diverged: '#e63946',
};

const hexToVec = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return `vec3f(${(((n >> 16) & 255) / 255).toFixed(4)}, ${(((n >> 8) & 255) / 255).toFixed(4)}, ${((n & 255) / 255).toFixed(4)})`;
};

/** Pixel codes of the splat images: 0 background, 1..6 class colours (class code + 1), then these. */
const CODE_SELECTED = 7, CODE_VIEW_COLOR = 8;

const VIEW_STRUCT = /* wgsl */ `
struct View {
  rows: u32, ring: u32, width: u32, taken: u32,
  n: u32, spikeCap: u32, sources: u32, selected: i32,
  tNow: f32, window: f32, vMin: f32, vMax: f32,
  canvasW: f32, canvasH: f32, strip: f32, lines: u32,
  obs: u32, autoscale: u32, firstRow: u32, rowStride: u32,
  color: vec4f,
}`;

const COLORS_WGSL = /* wgsl */ `
const BACKGROUND = vec3f(0.055, 0.063, 0.078);
fn classColor(code: f32) -> vec3f {
  let c = u32(code + 0.5);
  if (c == 1u) { return ${hexToVec(CLASS_COLORS.silent)}; }
  if (c == 2u) { return ${hexToVec(CLASS_COLORS.tonic)}; }
  if (c == 3u) { return ${hexToVec(CLASS_COLORS.bursting)}; }
  if (c == 4u) { return ${hexToVec(CLASS_COLORS.irregular)}; }
  if (c == 5u) { return ${hexToVec(CLASS_COLORS.diverged)}; }
  return ${hexToVec(CLASS_COLORS.unknown)};
}
// inferno colour map, polynomial fit (public domain, after Matt Zucker)
fn inferno(t0: f32) -> vec3f {
  let t = clamp(t0, 0.0, 1.0);
  let c0 = vec3f(0.0002189403691192265, 0.001651004631001012, -0.01948089843709184);
  let c1 = vec3f(0.1065134194856116, 0.5639564367884091, 3.932712388889277);
  let c2 = vec3f(11.60249308247187, -3.972853965665698, -15.9423941062914);
  let c3 = vec3f(-41.70399613139459, 17.43639888205313, 44.35414519872813);
  let c4 = vec3f(77.162935699427, -33.40235894210092, -81.80730925738993);
  let c5 = vec3f(-71.31942824499214, 32.62606426397723, 73.20951985803202);
  let c6 = vec3f(25.13112622477341, -12.24266895238567, -23.07032500287172);
  return clamp(c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6))))), vec3f(0.0), vec3f(1.0));
}`;

const SAMPLE_AT = /* wgsl */ `
// value of sample j (0 = oldest in the window) of a traced row, and 1 if it has been taken (else 0)
fn sampleAt(row: u32, j: i32, obs: u32) -> vec2f {
  let k = i32(view.taken) - i32(view.ring) + j;
  if (k < 0 || j < 0) { return vec2f(0.0, 0.0); }
  let slot = u32(k) % view.ring;
  return vec2f(trace[(row * view.ring + slot) * view.width + obs], 1.0);
}`;

/** The population image: one row per traced instance, read from the trace ring per pixel. */
const HEATMAP = /* wgsl */ `${VIEW_STRUCT}
@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> trace: array<f32>;
@group(0) @binding(2) var<storage, read> classes: array<f32>;
${COLORS_WGSL}
${SAMPLE_AT}
${FULLSCREEN}
@fragment fn fs(in: VsOut) -> @location(0) vec4f {
  let row = min(u32(in.pos.y / view.canvasH * f32(view.rows)), view.rows - 1u);
  let selected = view.selected >= 0 && u32(view.selected) == row;
  if (in.pos.x < view.strip) {
    if (selected) { return vec4f(1.0, 1.0, 1.0, 1.0); }
    return vec4f(classColor(classes[row]), 1.0);
  }
  let x = (in.pos.x - view.strip) / (view.canvasW - view.strip);
  let s = sampleAt(row, i32(floor(x * f32(view.ring))), 0u);
  if (s.y == 0.0) { return vec4f(BACKGROUND, 1.0); }
  var c = inferno((s.x - view.vMin) / (view.vMax - view.vMin));
  if (selected) { c = mix(c, vec3f(0.3, 1.0, 0.6), 0.5); }
  return vec4f(c, 1.0);
}
`;

/** Shows a splat image: colour codes per pixel. */
const DISPLAY = /* wgsl */ `${VIEW_STRUCT}
@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> image: array<u32>;
${COLORS_WGSL}
${FULLSCREEN}
@fragment fn fs(in: VsOut) -> @location(0) vec4f {
  let w = u32(view.canvasW);
  let code = image[u32(in.pos.y) * w + u32(in.pos.x)];
  if (code == 0u) { return vec4f(BACKGROUND, 1.0); }
  if (code == ${CODE_SELECTED}u) { return vec4f(0.3, 1.0, 0.6, 1.0); }
  if (code == ${CODE_VIEW_COLOR}u) { return vec4f(view.color.rgb, 1.0); }
  return vec4f(mix(classColor(f32(code - 1u)), vec3f(1.0), 0.15), 1.0);
}
`;

const SPLAT_BINDINGS = /* wgsl */ `${VIEW_STRUCT}
@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> trace: array<f32>;
@group(0) @binding(2) var<storage, read> events: array<f32>;
@group(0) @binding(3) var<storage, read> classes: array<f32>;
@group(0) @binding(4) var<storage, read_write> range: array<f32>;
@group(0) @binding(5) var<storage, read_write> image: array<u32>;
`;

/** Compute passes: the raster splat, the trace envelopes, and the autoscale reduction. */
const SPLAT = /* wgsl */ `${SPLAT_BINDINGS}
${SAMPLE_AT}

// one invocation per spike-ring entry (instance i, entry e); 2-D grid of 65,536-entry rows
@compute @workgroup_size(64) fn raster(@builtin(global_invocation_id) gid: vec3u) {
  let ii = gid.x + gid.y * 65536u;
  if (ii >= view.n * view.spikeCap) { return; }
  let i = ii / view.spikeCap;
  let e = ii % view.spikeCap;
  let count = u32(events[i]);                                   // spike count of source 0
  if (e >= min(count, view.spikeCap)) { return; }
  let t = events[(view.sources + e) * view.n + i];              // ring entry e of source 0
  let x = (t - (view.tNow - view.window)) / view.window;
  if (x < 0.0 || x >= 1.0) { return; }
  let w = u32(view.canvasW);
  let h = u32(view.canvasH);
  let px = min(u32(x * f32(w)), w - 1u);
  let y0 = u32(f32(i) / f32(view.rows) * f32(h));
  let y1 = max(y0 + 1u, u32(f32(i + 1u) / f32(view.rows) * f32(h)));
  var code = u32(classes[i] + 0.5) + 1u;
  if (view.selected >= 0 && u32(view.selected) == i) { code = ${CODE_SELECTED}u; }
  for (var y = y0; y < min(y1, h); y++) {
    image[y * w + px] = code;
    if (px + 1u < w) { image[y * w + px + 1u] = code; }
  }
}

// one invocation per (pixel column, line): the envelope of the samples in the column (and the last
// one of the column before, so steep edges join up), written as a vertical run of pixels
@compute @workgroup_size(64) fn lines(@builtin(global_invocation_id) gid: vec3u) {
  let w = u32(view.canvasW);
  let h = u32(view.canvasH);
  let c = gid.x;
  let l = gid.y;
  if (c >= w || l >= view.lines) { return; }
  let row = view.firstRow + l * view.rowStride;
  let j0 = i32(floor(f32(c) * f32(view.ring) / f32(w)));
  let j1 = max(j0, i32(floor(f32(c + 1u) * f32(view.ring) / f32(w))) - 1);
  var lo = 3.0e38;
  var hi = -3.0e38;
  var found = false;
  for (var j = max(j0 - 1, 0); j <= j1; j++) {
    let s = sampleAt(row, j, view.obs);
    if (s.y > 0.0) { lo = min(lo, s.x); hi = max(hi, s.x); found = true; }
  }
  if (!found) { return; }
  var vMin = view.vMin;
  var vMax = view.vMax;
  if (view.autoscale != 0u) {
    let pad = max(0.06 * (range[1] - range[0]), 1e-6 * abs(range[1]) + 1e-12);
    vMin = range[0] - pad;
    vMax = range[1] + pad;
  }
  // lane l from the top; 3 % margin above and below each lane
  let band = f32(h) / f32(view.lines);
  let top = f32(l) * band + 0.03 * band;
  let span = 0.94 * band - 1.0;
  let yHi = u32(top + (1.0 - clamp((hi - vMin) / (vMax - vMin), 0.0, 1.0)) * span);
  let yLo = u32(top + (1.0 - clamp((lo - vMin) / (vMax - vMin), 0.0, 1.0)) * span);
  var code = ${CODE_VIEW_COLOR}u;
  if (view.lines > 1u) { code = u32(classes[row] + 0.5) + 1u; }
  if (view.lines > 1u && view.selected >= 0 && u32(view.selected) == row) { code = ${CODE_SELECTED}u; }
  for (var y = yHi; y <= min(yLo, h - 1u); y++) { image[y * w + c] = code; }
}

var<workgroup> lows: array<f32, 256>;
var<workgroup> highs: array<f32, 256>;
// the extremes of one traced row's ring (firstRow), for autoscaling
@compute @workgroup_size(256) fn minmax(@builtin(local_invocation_index) lid: u32) {
  var lo = 3.0e38;
  var hi = -3.0e38;
  let count = min(view.taken, view.ring);
  for (var s = lid; s < count; s += 256u) {
    let slot = (view.taken - count + s) % view.ring;
    let v = trace[(view.firstRow * view.ring + slot) * view.width + view.obs];
    lo = min(lo, v);
    hi = max(hi, v);
  }
  lows[lid] = lo;
  highs[lid] = hi;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      lows[lid] = min(lows[lid], lows[lid + stride]);
      highs[lid] = max(highs[lid], highs[lid + stride]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (count == 0u) { range[0] = 0.0; range[1] = 1.0; } else { range[0] = lows[0]; range[1] = highs[0]; }
  }
}
`;

const VIEW_BYTES = 96;
const UNIFORM = 0x40, STORAGE = 0x80, COPY_DST = 0x08, COPY_SRC = 0x04, MAP_READ = 0x01;

export interface ViewParams {
  rows: number;
  selected: number;
  vMin?: number;
  vMax?: number;
  strip?: number;
  lines?: number;
  obs?: number;
  autoscale?: boolean;
  firstRow?: number;
  rowStride?: number;
  color?: [number, number, number];
}

export interface SimBuffers {
  trace: GPUBuffer;
  events: GPUBuffer;
  classes: GPUBuffer;
  n: number;
  ring: number;
  width: number;
  spikeCap: number;
  sources: number;
}

export interface FrameState {
  taken: number;
  tNowMs: number;
  windowMs: number;
}

export type ViewKind = 'heatmap' | 'raster' | 'lines';

/** One canvas. */
export class View {
  readonly uniform: GPUBuffer;
  readonly range: GPUBuffer;
  params: ViewParams;
  private image: GPUBuffer | null = null;
  private sim: SimBuffers | null = null;
  private drawGroup: GPUBindGroup | null = null;
  private splatGroup: GPUBindGroup | null = null;

  constructor(readonly renderer: Renderer, readonly kind: ViewKind, readonly canvas: HTMLCanvasElement, readonly context: GPUCanvasContext, params: ViewParams) {
    const { device } = renderer;
    this.uniform = device.createBuffer({ size: VIEW_BYTES, usage: UNIFORM | COPY_DST });
    this.range = device.createBuffer({ size: 16, usage: STORAGE | COPY_DST | COPY_SRC });
    this.params = params;
  }

  /** Sizes the drawing buffer (and the splat image) to the element; rebinds when the size changed. */
  resize(): void {
    const resized = fitCanvas(this.canvas, this.renderer.scale);
    if (!resized && (this.kind === 'heatmap' || this.image)) return;
    if (this.kind !== 'heatmap') {
      this.image?.destroy();
      this.image = this.renderer.device.createBuffer({ size: 4 * this.canvas.width * this.canvas.height, usage: STORAGE | COPY_DST });
    }
    if (this.sim) this.bind(this.sim);
  }

  bind(sim: SimBuffers): void {
    const { device } = this.renderer;
    this.sim = sim;
    if (this.kind === 'heatmap') {
      this.drawGroup = device.createBindGroup({
        layout: this.renderer.heatmap.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: this.uniform } }, { binding: 1, resource: { buffer: sim.trace } }, { binding: 2, resource: { buffer: sim.classes } }],
      });
      return;
    }
    if (!this.image) return;
    this.drawGroup = device.createBindGroup({
      layout: this.renderer.display.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.uniform } }, { binding: 1, resource: { buffer: this.image } }],
    });
    this.splatGroup = device.createBindGroup({
      layout: this.renderer.splatLayout,
      entries: [
        { binding: 0, resource: { buffer: this.uniform } },
        { binding: 1, resource: { buffer: sim.trace } },
        { binding: 2, resource: { buffer: sim.events } },
        { binding: 3, resource: { buffer: sim.classes } },
        { binding: 4, resource: { buffer: this.range } },
        { binding: 5, resource: { buffer: this.image } },
      ],
    });
  }

  writeUniform(sim: SimBuffers, frame: FrameState): void {
    const p = this.params;
    const u = new ArrayBuffer(VIEW_BYTES);
    const U = new Uint32Array(u), I = new Int32Array(u), F = new Float32Array(u);
    U.set([Math.max(1, p.rows), sim.ring, sim.width, frame.taken, sim.n, sim.spikeCap, sim.sources]);
    I[7] = p.selected;
    F.set([frame.tNowMs, frame.windowMs, p.vMin ?? -80, p.vMax ?? 40, this.canvas.width, this.canvas.height, p.strip ?? 0], 8);
    U[15] = Math.max(1, p.lines ?? 1);
    U.set([p.obs ?? 0, p.autoscale ? 1 : 0, p.firstRow ?? 0, p.rowStride ?? 1], 16);
    F.set([...(p.color ?? [0.3, 1, 0.6]), 1], 20);
    this.renderer.device.queue.writeBuffer(this.uniform, 0, u);
  }

  encode(encoder: GPUCommandEncoder, sim: SimBuffers): void {
    const r = this.renderer;
    if (!this.drawGroup) return;
    const p = this.params;
    if (this.kind !== 'heatmap' && this.image && this.splatGroup) {
      encoder.clearBuffer(this.image);
      const pass = encoder.beginComputePass();
      pass.setBindGroup(0, this.splatGroup);
      if (this.kind === 'raster') {
        const entries = sim.n * sim.spikeCap;
        if (entries > 0) {
          pass.setPipeline(r.rasterSplat);
          pass.dispatchWorkgroups(Math.min(1024, Math.ceil(entries / 64)), Math.ceil(entries / 65536));
        }
      } else {
        if (p.autoscale) {
          pass.setPipeline(r.minmax);
          pass.dispatchWorkgroups(1);
        }
        pass.setPipeline(r.linesSplat);
        pass.dispatchWorkgroups(Math.ceil(this.canvas.width / 64), Math.max(1, p.lines ?? 1));
      }
      pass.end();
    }
    drawFullScreen(encoder, this.context, this.kind === 'heatmap' ? r.heatmap : r.display, this.drawGroup);
  }

  /**
   * The extremes an autoscaled trace was last drawn between (before the shader's padding), read back
   * for its axis labels; null until a frame has drawn it.
   */
  async readRange(): Promise<[number, number] | null> {
    if (!this.params.autoscale) return null;
    const { device } = this.renderer;
    const out = device.createBuffer({ size: 16, usage: MAP_READ | COPY_DST });
    try {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(this.range, 0, out, 0, 16);
      device.queue.submit([enc.finish()]);
      await out.mapAsync(MAP_READ);
      const [lo, hi] = new Float32Array(out.getMappedRange().slice(0));
      out.unmap();
      return Number.isFinite(lo) && Number.isFinite(hi) && hi >= lo ? [lo, hi] : null;
    } finally {
      out.destroy();
    }
  }

  destroy(): void {
    this.image?.destroy();
    this.uniform.destroy();
    this.range.destroy();
  }
}

export class Renderer {
  readonly format: GPUTextureFormat;
  readonly splatLayout: GPUBindGroupLayout;
  heatmap!: GPURenderPipeline;
  display!: GPURenderPipeline;
  rasterSplat!: GPUComputePipeline;
  linesSplat!: GPUComputePipeline;
  minmax!: GPUComputePipeline;
  readonly views: View[] = [];

  /**
   * @param scale drawing-buffer pixels per CSS pixel: the device pixel ratio on a real GPU; lower on a
   *   software adapter, where every pixel costs CPU time (the browser scales the canvas up)
   */
  constructor(readonly device: GPUDevice, readonly scale = Math.min(window.devicePixelRatio || 1, 2)) {
    this.format = navigator.gpu.getPreferredCanvasFormat();
    // reads trace, events and classes; writes the autoscale range and the image
    this.splatLayout = splatBindGroupLayout(device, 3, 2);
  }

  async init(): Promise<void> {
    const { device } = this;
    const render = async (code: string, what: string) => fullScreenPipeline(device, await compileShader(device, code, what), this.format);
    const splat = await compileShader(device, SPLAT, 'splat');
    [this.heatmap, this.display, this.rasterSplat, this.linesSplat, this.minmax] = await Promise.all([
      render(HEATMAP, 'population'), render(DISPLAY, 'display'), ...splatPipelines(device, this.splatLayout, splat, ['raster', 'lines', 'minmax']),
    ]);
  }

  addView(kind: ViewKind, canvas: HTMLCanvasElement, params: ViewParams): View {
    const view = new View(this, kind, canvas, canvasContext(this.device, canvas, this.format), params);
    this.views.push(view);
    return view;
  }

  bindAll(sim: SimBuffers): void {
    for (const v of this.views) {
      v.resize();
      v.bind(sim);
    }
  }

  /** Draws every view for this frame in one submission. */
  draw(sim: SimBuffers, frame: FrameState, views: View[] = this.views): void {
    const encoder = this.device.createCommandEncoder();
    for (const v of views) {
      v.resize();
      v.writeUniform(sim, frame);
      v.encode(encoder, sim);
    }
    this.device.queue.submit([encoder.finish()]);
  }
}
