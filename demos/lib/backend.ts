/**
 * Which path a demo page takes, and the browser's WebGPU device.
 *
 * - `webgpu`: navigator.gpu with an adapter: the engine's WGSL kernel, drawn from its own buffers.
 * - `webgl2`: no WebGPU but WebGL2: gpu.js runs the generated JavaScript step (emit-gpujs.ts) for
 *   workloads with a few scalar outputs per instance (landscapes, sweep features).
 * - `cpu`: neither, or asked for: the f64 CPU engine in a Web Worker.
 *
 * `?backend=webgpu|webgl2|cpu` in the page URL forces a path (tests use it); the page always says
 * which path it took and why.
 */
import { requestGpu, type GpuContext } from '../../src/engine/gpu/device.ts';

export type BackendKind = 'webgpu' | 'webgl2' | 'cpu';

export interface Backend {
  kind: BackendKind;
  /** the WebGPU device, when kind is webgpu */
  gpu?: GpuContext;
  /** what runs it: the adapter or GL renderer, or the CPU */
  adapter: string;
  /** why this path (e.g. 'forced by ?backend=cpu', 'navigator.gpu is missing') */
  reason: string;
}

export function requestedBackend(): BackendKind | null {
  const b = new URLSearchParams(location.search).get('backend');
  return b === 'webgpu' || b === 'webgl2' || b === 'cpu' ? b : null;
}

/** The browser's WebGPU device with the limits the engine needs (the engine's own request), or a reason why there is none. */
export async function browserWebGpu(): Promise<{ gpu: GpuContext } | { error: string }> {
  const r = await requestGpu();
  if ('error' in r) return r;
  const ctx = r.gpu;
  if (ctx.isFallbackAdapter) ctx.adapterName = `${ctx.adapterName} (software fallback adapter)`;
  ctx.device.lost.then((info) => console.error(`WebGPU device lost (${info.reason}): ${info.message}`));
  return { gpu: ctx };
}

/** The renderer string of a WebGL2 context (unmasked where the browser allows), or null without WebGL2. */
export function webgl2Renderer(): string | null {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return null;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

/**
 * Picks the path for a page. `accepts` lists the paths the page can use, best first; WebGPU is taken
 * when present, then WebGL2, then the CPU worker.
 */
export async function chooseBackend(accepts: BackendKind[]): Promise<Backend> {
  const forced = requestedBackend();
  const cpu = (reason: string): Backend => ({ kind: 'cpu', adapter: `CPU, f64, Web Worker (${navigator.hardwareConcurrency || 1} cores)`, reason });
  const webgl2 = (reason: string): Backend | null => {
    const renderer = webgl2Renderer();
    return renderer ? { kind: 'webgl2', adapter: renderer, reason } : null;
  };
  if (forced && !accepts.includes(forced)) return chooseBackend(accepts.filter((k) => k !== forced)).then((b) => ({ ...b, reason: `?backend=${forced} is not available on this page; ${b.reason}` }));
  if (forced === 'cpu') return cpu('forced by ?backend=cpu');
  if (forced === 'webgl2') return webgl2('forced by ?backend=webgl2') ?? cpu('?backend=webgl2 asked for, but this browser has no WebGL2');
  let why = '';
  if (accepts.includes('webgpu')) {
    const got = await browserWebGpu();
    if ('gpu' in got) return { kind: 'webgpu', gpu: got.gpu, adapter: got.gpu.adapterName, reason: forced ? 'forced by ?backend=webgpu' : 'WebGPU is available' };
    why = got.error;
  }
  if (accepts.includes('webgl2')) {
    const b = webgl2(why ? `no WebGPU (${why}); WebGL2 is available` : 'WebGL2');
    if (b) return b;
    why = `${why ? `${why}; ` : ''}no WebGL2 either`;
  }
  return cpu(why || 'CPU engine');
}

/** A label for the path: what the page prints in its status bar. */
export function backendLabel(b: Backend): string {
  switch (b.kind) {
    case 'webgpu': return 'WebGPU';
    case 'webgl2': return 'WebGL2 via gpu.js';
    case 'cpu': return 'CPU engine (Web Worker)';
  }
}
