/**
 * The ensemble explorer's simulation loop without a browser: a LiveEnsemble advanced frame by frame
 * under the same frame-budget controller, on Deno's WebGPU, printing JSON. It measures whether a GPU
 * keeps N neurons in real time (simulated seconds per wall second ≥ 1) at a given frame budget; the
 * page adds its drawing (a few compute and full-screen passes, independent of N but for the raster).
 *
 *   deno run -A demos/bench-live.ts [N=100000] [seconds=10] [dtMs=0.025] [frameBudgetMs=16]
 */
import process from 'node:process';
import { compile } from '../src/compile/compile.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { LiveEnsemble } from './ensemble/live.ts';
import { defaultDistribution, modelInfo, sampleParams } from './lib/models.ts';

const [N = 100_000, seconds = 10, dtMs = 0.025, budget = 16] = process.argv.slice(2).map(Number);
const gpu = await getGpu();
if (!gpu) throw new Error('no WebGPU adapter');
const info = modelInfo('prinz');
const program = compile(info.model, { dtMs, instanceParams: [...info.instanceParams] });
const params = sampleParams(info, defaultDistribution('prinz'), N);
const big = N > 16384;
const live = await LiveEnsemble.create(gpu, program, {
  N, params, traceRows: Math.min(N, 4096), ringSamples: 2000, traceEvery: Math.max(1, Math.round(1 / dtMs)),
  spikeCapacity: big ? 24 : 48, maximaCapacity: big ? 48 : 128, frameBudgetMs: budget,
});
// warm-up: let the controller find its step count
let t = performance.now();
while (performance.now() - t < 2000) {
  const f0 = performance.now(), steps = live.stepsPerFrame;
  await live.advance(steps);
  live.frameDone(performance.now() - f0, steps);
}
const step0 = live.step;
let frames = 0;
t = performance.now();
while (performance.now() - t < seconds * 1000) {
  const f0 = performance.now(), steps = live.stepsPerFrame;
  await live.advance(steps);
  live.frameDone(performance.now() - f0, steps);
  frames++;
}
const wallS = (performance.now() - t) / 1000;
const simS = ((live.step - step0) * dtMs) / 1000;
console.log(JSON.stringify({
  adapter: gpu.adapterName, N, dtMs, frameBudgetMs: budget, wallS, frames, framesPerS: frames / wallS, stepsPerFrame: live.stepsPerFrame,
  simSecondsPerWallSecond: simS / wallS, neuronStepsPerS: (N * (live.step - step0)) / wallS,
}));
live.destroy();
