/**
 * The landscape explorer's numbers, on whichever path the page took:
 * - WebGPU: the landscape job (src/jobs/landscape.ts) on the GPU engine, gradients from tangent lanes;
 * - WebGL2: the same cost from the gpu.js kernel of the primal step (emit-gpujs.ts), gradients by
 *   central differences on the grid: on SwiftShader a gpu.js kernel with one tangent lane takes ~30 s
 *   to compile against 0.3 s without (README, "Browser demos"), so lanes stay off this path;
 * - CPU: the landscape job on the f64 CPU engine in a Web Worker.
 * Curves and single-model details always run on the f64 CPU engine in the worker: they are a few
 * instances at a time, where a GPU only adds latency.
 */
import { evaluateCosts } from '../../src/analysis/costs.ts';
import type { EnsembleResult } from '../../src/engine/ensemble.ts';
import { runGpuJs, type GpuJsLike } from '../../src/engine/gpujs/run.ts';
import { baseValues, coordinatesOf, programOf, resolveCost } from '../../src/jobs/cost/problem.ts';
import { costSetupOf } from '../../src/jobs/cost/spec.ts';
import { parseLandscapeSpec, runLandscape, type LandscapeSpecInput } from '../../src/jobs/landscape.ts';
import type { Backend } from '../lib/backend.ts';
import type { CpuWorker } from '../lib/cpu-client.ts';
import { modelInfo, type ModelName } from '../lib/models.ts';

export interface LandscapeSettings {
  model: ModelName;
  /** conductances of the reference cell (the cost's target, and the fixed values of the others) */
  preset: Record<string, number>;
  x: string;
  y: string;
  xRange: [number, number];
  yRange: [number, number];
  count: number;
  dtMs: number;
  durationMs: number;
  discardMs: number;
  /**
   * Hann-tapered average of [Ca] (from traces every 5 ms) instead of the plain one: a plain average
   * over a fixed window moves with where the window cuts the last cycle (src/analysis/costs.ts). The
   * gpu.js path keeps no traces, so it uses the plain average.
   */
  taper: boolean;
}

export const TAPER_SAMPLE_MS = 5;

/** The cost settings every part of the explorer shares: mean [Ca] against the reference cell's. */
export function costSettings(s: LandscapeSettings) {
  const info = modelInfo(s.model);
  return {
    model: s.model, dtMs: s.dtMs, durationMs: s.durationMs, discardMs: s.discardMs,
    fixed: Object.fromEntries(info.conductances.filter((g) => g !== s.x && g !== s.y).map((g) => [g, s.preset[g]])),
    cost: [s.taper ? { mean: 'Ca', taper: true } : { mean: 'Ca' }],
    ...(s.taper ? { traceEveryMs: TAPER_SAMPLE_MS } : {}),
  };
}

/** The landscape job's spec: squared relative error of mean [Ca] against the reference cell's, over log x and log y. */
export function landscapeSpec(s: LandscapeSettings, engine: 'gpu' | 'cpu'): LandscapeSpecInput {
  return {
    ...costSettings(s),
    target: { [s.x]: s.preset[s.x], [s.y]: s.preset[s.y] },
    x: { parameter: `log:${s.x}`, from: s.xRange[0], to: s.xRange[1], count: s.count },
    y: { parameter: `log:${s.y}`, from: s.yRange[0], to: s.yRange[1], count: s.count },
    engine,
  };
}

export interface Landscape {
  nx: number;
  ny: number;
  /** parameter values and (log) coordinates along each axis */
  xValues: Float64Array;
  yValues: Float64Array;
  xCoords: Float64Array;
  yCoords: Float64Array;
  /** at iy·nx + ix */
  cost: Float64Array;
  /** d cost / d log x, d cost / d log y */
  gradient: [Float64Array, Float64Array];
  gradientFrom: 'tangent lanes' | 'finite differences on the grid';
  /** mean [Ca] of the reference cell */
  target: number;
  engine: string;
  device: string;
  wallMs: number;
  /** simulated seconds (all instances together) per wall second */
  simPerWall: number;
}

function axis(from: number, to: number, count: number) {
  const [a, b] = [Math.log(from), Math.log(to)];
  const coords = Float64Array.from({ length: count }, (_, k) => a + ((b - a) * k) / (count - 1));
  return { coords, values: coords.map(Math.exp) };
}

/** Central differences of a grid function in coordinate space (one-sided at the edges). */
export function gridGradient(f: Float64Array, nx: number, ny: number, xc: Float64Array, yc: Float64Array): [Float64Array, Float64Array] {
  const gx = new Float64Array(nx * ny), gy = new Float64Array(nx * ny);
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const [x0, x1] = [Math.max(0, ix - 1), Math.min(nx - 1, ix + 1)];
      const [y0, y1] = [Math.max(0, iy - 1), Math.min(ny - 1, iy + 1)];
      gx[iy * nx + ix] = (f[iy * nx + x1] - f[iy * nx + x0]) / (xc[x1] - xc[x0]);
      gy[iy * nx + ix] = (f[y1 * nx + ix] - f[y0 * nx + ix]) / (yc[y1] - yc[y0]);
    }
  }
  return [gx, gy];
}

/** The cost grid by gpu.js (WebGL2): primal kernel, mean of each term's quantity, costs as the landscape job computes them. */
async function landscapeGpuJs(s: LandscapeSettings, gpu: GpuJsLike, onProgress: (f: number) => void): Promise<Landscape> {
  const started = performance.now();
  if (s.taper) throw new Error('the gpu.js path computes plain averages only (it keeps no traces to taper)');
  const spec = parseLandscapeSpec(landscapeSpec(s, 'cpu'));
  const setup = costSetupOf(spec);
  const coords = coordinatesOf(setup, [spec.x.parameter, spec.y.parameter]);
  const problem = await resolveCost(setup, coords, setup.target ?? baseValues(setup));
  const program = programOf(problem, false);
  const x = axis(s.xRange[0], s.xRange[1], s.count), y = axis(s.yRange[0], s.yRange[1], s.count);
  const nx = s.count, ny = s.count, N = nx * ny;
  const px = new Float64Array(N), py = new Float64Array(N);
  for (let iy = 0; iy < ny; iy++) for (let ix = 0; ix < nx; ix++) [px[iy * nx + ix], py[iy * nx + ix]] = [x.values[ix], y.values[iy]];
  const observedNames = [...new Set(problem.terms.map((t) => t.observed))];
  const r = await runGpuJs({
    program, N, params: { [s.x]: px, [s.y]: py }, durationMs: s.durationMs, discardMs: s.discardMs,
    outputs: observedNames.map((observed) => ({ kind: 'mean' as const, observed })),
  }, { gpu, batch: 64, onProgress });
  // the cost code of the landscape job, fed with the gpu.js means (no lanes: no tangent sums)
  const result = {
    N, lanes: [],
    observed: observedNames.map((name, k) => ({ name, unit: '', kind: 'other', mean: r.outputs[k], min: r.outputs[k], max: r.outputs[k], meanTangent: [] })),
  } as unknown as EnsembleResult;
  const { cost } = evaluateCosts(result, problem.terms);
  const wallMs = performance.now() - started;
  return {
    nx, ny, xValues: x.values, yValues: y.values, xCoords: x.coords, yCoords: y.coords, cost,
    gradient: gridGradient(cost, nx, ny, x.coords, y.coords), gradientFrom: 'finite differences on the grid',
    target: problem.terms[0].kind === 'mean' ? problem.terms[0].target : NaN,
    engine: 'gpu.js (WebGL2)', device: r.device, wallMs, simPerWall: (N * s.durationMs) / wallMs,
  };
}

export async function computeLandscape(backend: Backend, s: LandscapeSettings, cpu: CpuWorker, gpujs: () => Promise<GpuJsLike>, onProgress: (f: number) => void): Promise<Landscape> {
  const N = s.count * s.count;
  if (backend.kind === 'webgl2') return landscapeGpuJs(s, await gpujs(), onProgress);
  if (backend.kind === 'webgpu') {
    const r = await runLandscape(landscapeSpec(s, 'gpu'), { run: { gpu: backend.gpu }, onProgress });
    const term = r.problem.terms[0];
    return {
      nx: s.count, ny: s.count, xValues: r.x.values, yValues: r.y.values, xCoords: r.x.coords, yCoords: r.y.coords,
      cost: r.cost, gradient: r.gradient, gradientFrom: 'tangent lanes', target: term.kind === 'mean' ? term.target : NaN,
      engine: `${r.engine} (WebGPU)`, device: r.device, wallMs: r.wallMs, simPerWall: (N * s.durationMs) / r.wallMs,
    };
  }
  const r = await cpu.landscape(landscapeSpec(s, 'cpu'));
  return {
    nx: s.count, ny: s.count, xValues: r.x.values, yValues: r.y.values, xCoords: r.x.coords, yCoords: r.y.coords,
    cost: r.cost, gradient: r.gradient, gradientFrom: 'tangent lanes', target: r.targets[0],
    engine: `${r.engine} (f64, Web Worker)`, device: r.device, wallMs: r.wallMs, simPerWall: (N * s.durationMs) / r.wallMs,
  };
}
